#pragma once
// What every end-to-end test's gRPC client needs.
#include <google/protobuf/timestamp.pb.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>

#include "google/rpc/error_details.pb.h"

namespace ecd::test {

// A call context with the bearer token (none when empty) and a 60-second deadline.
std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token);
// The google.rpc.ErrorInfo in a status's details (empty when there is none).
google::rpc::ErrorInfo InfoOf(const grpc::Status& status);
// Now plus `from_now`, as a Timestamp (whole seconds).
google::protobuf::Timestamp In(std::chrono::seconds from_now);

}  // namespace ecd::test
