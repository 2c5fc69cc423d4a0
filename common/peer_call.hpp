#pragma once
// What a service needs to call another one: a client context with its bearer token and a
// deadline, and one reading of the answer (NOT_FOUND stays NOT_FOUND; any other failure means the
// peer could not be asked: UNAVAILABLE with the given reason, so the caller retries later).
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <string>

#include "common/status.hpp"

namespace ecd {

void PreparePeerCall(grpc::ClientContext* ctx, const std::string& token,
                     std::chrono::seconds deadline);

// OK, NOT_FOUND naming `resource`, or UNAVAILABLE (`reason`) saying `peer` could not be asked.
Status PeerStatus(const grpc::Status& answer, const std::string& resource,
                  const std::string& reason, const std::string& peer);

}  // namespace ecd
