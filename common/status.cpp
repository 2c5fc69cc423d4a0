#include "common/status.hpp"

namespace ecd {

const char* CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "OK";
    case Code::kCancelled:
      return "CANCELLED";
    case Code::kUnknown:
      return "UNKNOWN";
    case Code::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case Code::kDeadlineExceeded:
      return "DEADLINE_EXCEEDED";
    case Code::kNotFound:
      return "NOT_FOUND";
    case Code::kAlreadyExists:
      return "ALREADY_EXISTS";
    case Code::kPermissionDenied:
      return "PERMISSION_DENIED";
    case Code::kResourceExhausted:
      return "RESOURCE_EXHAUSTED";
    case Code::kFailedPrecondition:
      return "FAILED_PRECONDITION";
    case Code::kAborted:
      return "ABORTED";
    case Code::kOutOfRange:
      return "OUT_OF_RANGE";
    case Code::kUnimplemented:
      return "UNIMPLEMENTED";
    case Code::kInternal:
      return "INTERNAL";
    case Code::kUnavailable:
      return "UNAVAILABLE";
    case Code::kDataLoss:
      return "DATA_LOSS";
    case Code::kUnauthenticated:
      return "UNAUTHENTICATED";
  }
  return "UNKNOWN";
}

Status Status::InvalidArgument(std::string field, std::string message) {
  Status s(Code::kInvalidArgument, "INVALID_ARGUMENT", field + ": " + message);
  s.With("field", std::move(field));
  return s;
}
Status Status::NotFound(std::string what) {
  return {Code::kNotFound, "NOT_FOUND", what + " not found"};
}
Status Status::FailedPrecondition(std::string reason, std::string message) {
  return {Code::kFailedPrecondition, std::move(reason), std::move(message)};
}
Status Status::AlreadyExists(std::string reason, std::string message) {
  return {Code::kAlreadyExists, std::move(reason), std::move(message)};
}
Status Status::Unavailable(std::string reason, std::string message) {
  return {Code::kUnavailable, std::move(reason), std::move(message)};
}
Status Status::PermissionDenied(std::string message) {
  return {Code::kPermissionDenied, "PERMISSION_DENIED", std::move(message)};
}
Status Status::Unauthenticated(std::string message) {
  return {Code::kUnauthenticated, "UNAUTHENTICATED", std::move(message)};
}
Status Status::Internal(std::string message) {
  return {Code::kInternal, "INTERNAL", std::move(message)};
}

std::string Status::field() const {
  auto it = metadata_.find("field");
  return it == metadata_.end() ? std::string() : it->second;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(CodeName(code_)) + " [" + reason_ + "] " + message_;
}

}  // namespace ecd
