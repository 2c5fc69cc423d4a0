#pragma once
// What every end-to-end test's gRPC client needs.
#include <google/protobuf/timestamp.pb.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>

#include "ecd/catalogue/v1/catalogue.grpc.pb.h"
#include "google/rpc/error_details.pb.h"

namespace ecd::test {

// A call context with the bearer token (none when empty) and a 60-second deadline.
std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token);
// The google.rpc.ErrorInfo in a status's details (empty when there is none).
google::rpc::ErrorInfo InfoOf(const grpc::Status& status);
// Now plus `from_now`, as a Timestamp (whole seconds).
google::protobuf::Timestamp In(std::chrono::seconds from_now);

// The webinar took place: moves `event`'s slot to `start` (RFC 3339, in the past) for
// `slot_minutes` (duration at most 100 minutes), as an administrator would after the fact, so
// that attendance can be imported and the event completed.
grpc::Status MoveSlot(ecd::catalogue::v1::CatalogueService::Stub& catalogue,
                      const std::string& admin_token, const std::string& event,
                      const std::string& start, int slot_minutes);

}  // namespace ecd::test
