#include "common/peer_call.hpp"

namespace ecd {

void PreparePeerCall(grpc::ClientContext* ctx, const std::string& token,
                     std::chrono::seconds deadline) {
  ctx->AddMetadata("authorization", "Bearer " + token);
  ctx->set_deadline(std::chrono::system_clock::now() + deadline);
}

Status PeerStatus(const grpc::Status& answer, const std::string& resource,
                  const std::string& reason, const std::string& peer) {
  if (answer.ok()) return Status::Ok();
  if (answer.error_code() == grpc::StatusCode::NOT_FOUND) return Status::NotFound(resource);
  return Status::Unavailable(reason,
                             "the " + peer + " could not be asked: " + answer.error_message());
}

}  // namespace ecd
