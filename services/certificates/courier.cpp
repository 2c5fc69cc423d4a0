#include "services/certificates/courier.hpp"

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include "common/peer_call.hpp"
#include "ecd/notifications/v1/notifications.grpc.pb.h"
#include "services/certificates/store.hpp"

namespace ecd::certificates {
namespace {

constexpr int kBatch = 5;
// Longer than a call's deadline: a claim outlives the call it covers.
constexpr int64_t kLeaseMs = 30000;

}  // namespace

struct Courier::Impl {
  std::unique_ptr<notifications::v1::NotificationService::Stub> stub;
};

Courier::Courier(Store& store, const std::string& notifications_address, std::string token,
                 std::chrono::milliseconds poll)
    : impl_(std::make_unique<Impl>()),
      store_(store),
      token_(std::move(token)),
      task_("certificate courier", poll, [this] { RunOnce(); }) {
  impl_->stub = notifications::v1::NotificationService::NewStub(PeerChannel(notifications_address));
}

Courier::~Courier() { Stop(); }

int Courier::RunOnce() {
  auto claimed = store_.ClaimMails(kBatch, kLeaseMs);
  if (!claimed.ok()) {
    spdlog::warn("certificate courier: {}", claimed.status().ToString());
    return 0;
  }
  int handed = 0;
  for (const auto& m : *claimed) {
    notifications::v1::SendCertificateRequest req;
    req.set_certificate("certificates/" + m.id);
    req.set_registration("registrations/" + m.registration_id);
    req.set_serial(m.serial);
    req.set_verification_code(m.verification_code);
    req.set_pdf(m.pdf);
    grpc::ClientContext ctx;
    PreparePeerCall(&ctx, token_, std::chrono::seconds(10));
    notifications::v1::SendCertificateResponse resp;
    grpc::Status sent = impl_->stub->SendCertificate(&ctx, req, &resp);
    if (sent.ok() || sent.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
      // Handed over (or pointless: the participant's data were erased).
      Status st = store_.MarkNotified(m.id);
      if (!st.ok()) spdlog::warn("certificate courier: {}", st.ToString());
      ++handed;
    } else {
      spdlog::debug("certificate {} not handed over yet: {}", req.certificate(),
                    sent.error_message());
      Status st = store_.ReleaseMail(m.id);  // the next round tries again
      if (!st.ok()) spdlog::warn("certificate courier: {}", st.ToString());
    }
  }
  return handed;
}

}  // namespace ecd::certificates
