#pragma once
// The one place a Status becomes a grpc::Status: the code, the message, and in the details a
// google.rpc.Status carrying a google.rpc.ErrorInfo (reason, domain = the service, metadata) and,
// for INVALID_ARGUMENT, a google.rpc.BadRequest naming the field.
#include <grpcpp/support/status.h>

#include <string>

#include "common/status.hpp"

namespace ecd {

grpc::Status ToGrpcStatus(const Status& status, const std::string& domain);

}  // namespace ecd
