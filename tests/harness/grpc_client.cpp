#include "tests/harness/grpc_client.hpp"

#include <google/protobuf/util/time_util.h>

#include "google/rpc/status.pb.h"

namespace ecd::test {

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  return ctx;
}

google::rpc::ErrorInfo InfoOf(const grpc::Status& status) {
  google::rpc::Status rich;
  google::rpc::ErrorInfo info;
  if (rich.ParseFromString(status.error_details())) {
    for (const auto& d : rich.details()) {
      if (d.UnpackTo(&info)) break;
    }
  }
  return info;
}

google::protobuf::Timestamp In(std::chrono::seconds from_now) {
  return google::protobuf::util::TimeUtil::SecondsToTimestamp(
      std::chrono::duration_cast<std::chrono::seconds>(
          std::chrono::system_clock::now().time_since_epoch() + from_now)
          .count());
}

}  // namespace ecd::test
