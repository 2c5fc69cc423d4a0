#include "services/certificates/peers.hpp"

#include <grpcpp/grpcpp.h>

#include "common/peer_call.hpp"
#include "common/resource_name.hpp"
#include "ecd/registration/v1/registration.grpc.pb.h"

namespace ecd::certificates {

namespace reg = ::ecd::registration::v1;

struct RegistrationClient::Impl {
  std::unique_ptr<reg::RegistrationService::Stub> stub;
};

RegistrationClient::RegistrationClient(const std::string& address, std::string token)
    : impl_(std::make_unique<Impl>()), token_(std::move(token)) {
  impl_->stub = reg::RegistrationService::NewStub(PeerChannel(address));
}

RegistrationClient::~RegistrationClient() = default;

StatusOr<reg::Registration> RegistrationClient::Get(const std::string& registration_id,
                                                    const std::string& participant_key) {
  grpc::ClientContext ctx;
  PreparePeerCall(&ctx, token_, std::chrono::seconds(5));
  reg::GetRegistrationRequest req;
  req.set_name("registrations/" + registration_id);
  req.set_participant_key(participant_key);
  reg::GetRegistrationResponse resp;
  grpc::Status st = impl_->stub->GetRegistration(&ctx, req, &resp);
  if (st.error_code() == grpc::StatusCode::PERMISSION_DENIED && !participant_key.empty()) {
    return Status(Code::kPermissionDenied, "INVALID_PARTICIPANT_KEY",
                  "the participant key does not open this registration")
        .With("field", "participant_key");
  }
  ECD_RETURN_IF_ERROR(
      PeerStatus(st, req.name(), "REGISTRATION_UNAVAILABLE", "registration service"));
  return resp.registration();
}

StatusOr<std::pair<std::vector<std::string>, std::string>> RegistrationClient::Erasures(
    const std::string& token) {
  grpc::ClientContext ctx;
  PreparePeerCall(&ctx, token_, std::chrono::seconds(10));
  reg::ListErasuresRequest req;
  req.set_page_token(token);
  req.set_page_size(500);
  reg::ListErasuresResponse resp;
  grpc::Status st = impl_->stub->ListErasures(&ctx, req, &resp);
  if (st.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
    return Status::InvalidArgument("page_token", "the registration service refused the token");
  }
  ECD_RETURN_IF_ERROR(
      PeerStatus(st, "erasure feed", "REGISTRATION_UNAVAILABLE", "registration service"));
  std::vector<std::string> ids;
  for (const auto& name : resp.registrations()) ids.push_back(IdOf(name));
  return std::make_pair(std::move(ids), resp.resume_token());
}

}  // namespace ecd::certificates
