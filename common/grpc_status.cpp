#include "common/grpc_status.hpp"

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace ecd {

grpc::Status ToGrpcStatus(const Status& status, const std::string& domain) {
  if (status.ok()) return grpc::Status::OK;
  // UNKNOWN is never sent: what we could not classify is INTERNAL.
  Code code = status.code() == Code::kUnknown ? Code::kInternal : status.code();
  google::rpc::Status rich;
  rich.set_code(static_cast<int>(code));
  rich.set_message(status.message());
  google::rpc::ErrorInfo info;
  info.set_reason(status.reason().empty() ? CodeName(code) : status.reason());
  info.set_domain(domain);
  for (const auto& [k, v] : status.metadata()) (*info.mutable_metadata())[k] = v;
  rich.add_details()->PackFrom(info);
  if (code == Code::kInvalidArgument && !status.field().empty()) {
    google::rpc::BadRequest bad;
    if (status.violations().empty()) {
      auto* violation = bad.add_field_violations();
      violation->set_field(status.field());
      violation->set_description(status.message());
    }
    for (const auto& [field, description] : status.violations()) {
      auto* violation = bad.add_field_violations();
      violation->set_field(field);
      violation->set_description(description);
    }
    rich.add_details()->PackFrom(bad);
  }
  return grpc::Status(static_cast<grpc::StatusCode>(code), status.message(),
                      rich.SerializeAsString());
}

}  // namespace ecd
