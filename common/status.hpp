#pragma once
// The project's own small status type: domain and storage code return it, the gRPC edge turns it
// into a grpc::Status with a google.rpc.ErrorInfo (grpc_status.hpp). Kept free of gRPC headers.
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace ecd {

// Same numbering as grpc::StatusCode.
enum class Code : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

const char* CodeName(Code code);

class Status {
 public:
  Status() = default;
  Status(Code code, std::string reason, std::string message)
      : code_(code), reason_(std::move(reason)), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  // Bad input: the reason is INVALID_ARGUMENT and the metadata names the field.
  static Status InvalidArgument(std::string field, std::string message);
  static Status NotFound(std::string what);
  static Status FailedPrecondition(std::string reason, std::string message);
  static Status AlreadyExists(std::string reason, std::string message);
  static Status Unavailable(std::string reason, std::string message);
  static Status PermissionDenied(std::string message);
  static Status Unauthenticated(std::string message);
  static Status Internal(std::string message);

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& reason() const { return reason_; }
  const std::string& message() const { return message_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // The field an INVALID_ARGUMENT names, or "" (the first one, when there are several).
  std::string field() const;
  // Every field violation of a request refused at once (field, description); empty when the
  // status names one field (field() and message()) or none.
  const std::vector<std::pair<std::string, std::string>>& violations() const { return violations_; }

  Status& With(std::string key, std::string value) {
    metadata_[std::move(key)] = std::move(value);
    return *this;
  }
  std::string ToString() const;

 private:
  friend class Violations;
  Code code_ = Code::kOk;
  std::string reason_;
  std::string message_;
  std::map<std::string, std::string> metadata_;
  std::vector<std::pair<std::string, std::string>> violations_;
};

// Collects every field violation of a request, so that one answer lists them all (AIP-193: a
// google.rpc.BadRequest with one field violation each) instead of one round trip per mistake.
class Violations {
 public:
  // Keeps `s` when it is an INVALID_ARGUMENT naming a field; any other failure becomes the
  // result (the first one wins).
  void Add(const Status& s);
  bool empty() const { return fields_.empty() && other_.ok(); }
  // OK, the only violation as it was, or INVALID_ARGUMENT naming the first field with all of them
  // in violations() and in the message.
  Status status() const;

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
  Status other_;
};

template <class T>
class StatusOr {
 public:
  StatusOr(T value) : v_(std::move(value)) {}         // NOLINT: implicit like absl::StatusOr
  StatusOr(Status status) : v_(std::move(status)) {}  // NOLINT
  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() { return std::get<T>(v_); }
  const T& value() const { return std::get<T>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

#define ECD_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::ecd::Status ecd_status_ = (expr);        \
    if (!ecd_status_.ok()) return ecd_status_; \
  } while (0)

// `lhs` takes the value of the StatusOr `expr`, or the function returns its status:
//   ECD_ASSIGN_OR_RETURN(auto event, catalogue.GetEvent(id));
#define ECD_ASSIGN_OR_RETURN(lhs, ...) \
  ECD_ASSIGN_OR_RETURN_IMPL_(ECD_CONCAT_(ecd_statusor_, __LINE__), lhs, __VA_ARGS__)
#define ECD_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, ...) \
  auto tmp = (__VA_ARGS__);                       \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(*tmp)
#define ECD_CONCAT_(a, b) ECD_CONCAT_IMPL_(a, b)
#define ECD_CONCAT_IMPL_(a, b) a##b

// The answer when a server's queue is full: RESOURCE_EXHAUSTED (OVERLOADED), retry later.
inline Status Overloaded() {
  return Status(Code::kResourceExhausted, "OVERLOADED", "server busy, retry later");
}

}  // namespace ecd
