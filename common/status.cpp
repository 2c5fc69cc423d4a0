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

void Violations::Add(const Status& s) {
  if (s.ok()) return;
  if (s.code() == Code::kInvalidArgument && !s.field().empty()) {
    if (s.violations().empty()) {
      fields_.emplace_back(s.field(), s.message());
    } else {
      fields_.insert(fields_.end(), s.violations().begin(), s.violations().end());
    }
    return;
  }
  if (other_.ok()) other_ = s;
}

Status Violations::status() const {
  if (!other_.ok()) return other_;
  if (fields_.empty()) return Status::Ok();
  if (fields_.size() == 1) return Status::InvalidArgument(fields_[0].first, fields_[0].second);
  std::string message = std::to_string(fields_.size()) + " fields are invalid: ";
  for (size_t i = 0; i < fields_.size(); ++i) {
    message += (i ? "; " : "") + fields_[i].first + ": " + fields_[i].second;
  }
  Status st = Status::InvalidArgument(fields_[0].first, message);
  st.violations_ = fields_;
  return st;
}

}  // namespace ecd
