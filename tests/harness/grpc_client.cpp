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

grpc::Status MoveSlot(ecd::catalogue::v1::CatalogueService::Stub& catalogue,
                      const std::string& admin_token, const std::string& event,
                      const std::string& start, int slot_minutes) {
  using google::protobuf::util::TimeUtil;
  ecd::catalogue::v1::UpdateEventRequest req;
  auto* e = req.mutable_event();
  e->set_name(event);
  if (!TimeUtil::FromString(start, e->mutable_start_time())) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad time " + start);
  }
  *e->mutable_end_time() = e->start_time() + TimeUtil::SecondsToDuration(slot_minutes * 60);
  e->set_duration_minutes(std::min(slot_minutes, 100));
  for (const char* path : {"start_time", "end_time", "duration_minutes"}) {
    req.mutable_update_mask()->add_paths(path);
  }
  ecd::catalogue::v1::UpdateEventResponse resp;
  return catalogue.UpdateEvent(Ctx(admin_token).get(), req, &resp);
}

}  // namespace ecd::test
