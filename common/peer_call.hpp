#pragma once
// What a service needs to call another one: a client context with its bearer token and a
// deadline, and one reading of the answer (NOT_FOUND stays NOT_FOUND; any other failure means the
// peer could not be asked: UNAVAILABLE with the given reason, so the caller retries later).
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>

#include "common/status.hpp"

namespace ecd {

void PreparePeerCall(grpc::ClientContext* ctx, const std::string& token,
                     std::chrono::seconds deadline);

// A channel to another service: every call on it carries the caller's W3C trace (traceparent;
// a new trace where the thread has none) and is counted (grpc_client_handled_total,
// grpc_client_handling_seconds).
std::shared_ptr<grpc::Channel> PeerChannel(
    const std::string& address,
    std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials());

// OK, NOT_FOUND naming `resource`, or UNAVAILABLE (`reason`) saying `peer` could not be asked.
Status PeerStatus(const grpc::Status& answer, const std::string& resource,
                  const std::string& reason, const std::string& peer);

}  // namespace ecd
