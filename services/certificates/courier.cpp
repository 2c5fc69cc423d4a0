#include "services/certificates/courier.hpp"

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include "common/peer_call.hpp"
#include "common/pg.hpp"
#include "ecd/notifications/v1/notifications.grpc.pb.h"

namespace ecd::certificates {
namespace {

constexpr SqlStatement kClaim = {
    "courier_claim",
    "SELECT id::text, registration_id::text, serial, verification_code, pdf"
    " FROM certificates.certificates WHERE notified_time IS NULL AND revoke_time IS NULL"
    " ORDER BY issue_time LIMIT 5 FOR UPDATE SKIP LOCKED"};
constexpr SqlStatement kNotified = {
    "courier_notified", "UPDATE certificates.certificates SET notified_time = now() WHERE id = $1"};

}  // namespace

struct Courier::Impl {
  std::unique_ptr<notifications::v1::NotificationService::Stub> stub;
};

Courier::Courier(PgPool& pool, const std::string& notifications_address, std::string token,
                 std::chrono::milliseconds poll)
    : impl_(std::make_unique<Impl>()), pool_(pool), token_(std::move(token)), poll_(poll) {
  impl_->stub = notifications::v1::NotificationService::NewStub(PeerChannel(notifications_address));
}

Courier::~Courier() { Stop(); }

void Courier::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void Courier::Stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void Courier::Loop() {
  while (!stopping_) {
    // Held while the notifications service is asked: another replica skips these rows.
    Status st = pool_.Transact([&](pqxx::work& tx) -> Status {
      for (const auto& r : Exec(tx, kClaim)) {
        notifications::v1::SendCertificateRequest req;
        req.set_certificate("certificates/" + r[0].as<std::string>());
        req.set_registration("registrations/" + r[1].as<std::string>());
        req.set_serial(r[2].as<std::string>());
        req.set_verification_code(r[3].as<std::string>());
        req.set_pdf(pqxx::binarystring(r[4]).str());
        grpc::ClientContext ctx;
        PreparePeerCall(&ctx, token_, std::chrono::seconds(10));
        notifications::v1::SendCertificateResponse resp;
        grpc::Status sent = impl_->stub->SendCertificate(&ctx, req, &resp);
        if (sent.ok() || sent.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
          // Handed over (or pointless: the participant's data were erased).
          Exec(tx, kNotified, r[0].as<std::string>());
        } else {
          spdlog::debug("certificate {} not handed over yet: {}", req.certificate(),
                        sent.error_message());
        }
      }
      return Status::Ok();
    });
    if (!st.ok()) spdlog::warn("certificate courier: {}", st.ToString());
    for (auto waited = std::chrono::milliseconds(0); waited < poll_ && !stopping_;
         waited += std::chrono::milliseconds(50)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

}  // namespace ecd::certificates
