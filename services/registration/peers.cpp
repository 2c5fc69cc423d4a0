#include "services/registration/peers.hpp"

#include <grpcpp/grpcpp.h>

#include "common/peer_call.hpp"
#include "ecd/certificates/v1/certificates.grpc.pb.h"
#include "ecd/notifications/v1/notifications.grpc.pb.h"

namespace ecd::registration {
namespace {

namespace cv1 = ::ecd::certificates::v1;
namespace nv1 = ::ecd::notifications::v1;

// At most this many pages of 100 are read per report (100,000 items): a report never runs away.
constexpr int kMaxPages = 1000;

class GrpcPeers final : public ReportPeers {
 public:
  GrpcPeers(const std::string& certificates, const std::string& notifications, std::string token)
      : token_(std::move(token)) {
    if (!certificates.empty()) {
      certificates_ = cv1::CertificateService::NewStub(PeerChannel(certificates));
    }
    if (!notifications.empty()) {
      notifications_ = nv1::NotificationService::NewStub(PeerChannel(notifications));
    }
  }

  StatusOr<CertificateCounts> Certificates(const std::string& event_id) override {
    if (!certificates_) return Status::Unavailable("CERTIFICATES_OFF", "not configured");
    CertificateCounts out;
    cv1::ListCertificatesRequest req;
    req.set_event("events/" + event_id);
    req.set_page_size(100);
    for (int page = 0; page < kMaxPages; ++page) {
      grpc::ClientContext ctx;
      PreparePeerCall(&ctx, token_, std::chrono::seconds(10));
      cv1::ListCertificatesResponse resp;
      ECD_RETURN_IF_ERROR(PeerStatus(certificates_->ListCertificates(&ctx, req, &resp), req.event(),
                                     "CERTIFICATES_UNAVAILABLE", "certificates"));
      for (const auto& c : resp.certificates()) {
        ++out.issued;
        if (c.state() == cv1::CERTIFICATE_STATE_REVOKED) ++out.revoked;
      }
      if (resp.next_page_token().empty()) break;
      req.set_page_token(resp.next_page_token());
    }
    return out;
  }

  StatusOr<std::map<std::string, int>> Messages(const std::string& event_id) override {
    if (!notifications_) return Status::Unavailable("NOTIFICATIONS_OFF", "not configured");
    std::map<std::string, int> out;
    nv1::ListMessagesRequest req;
    req.set_event("events/" + event_id);
    req.set_page_size(100);
    for (int page = 0; page < kMaxPages; ++page) {
      grpc::ClientContext ctx;
      PreparePeerCall(&ctx, token_, std::chrono::seconds(10));
      nv1::ListMessagesResponse resp;
      grpc::Status st = notifications_->ListMessages(&ctx, req, &resp);
      // An event nobody wrote to yet is no error for a report.
      if (st.error_code() == grpc::StatusCode::NOT_FOUND) return out;
      ECD_RETURN_IF_ERROR(
          PeerStatus(st, req.event(), "NOTIFICATIONS_UNAVAILABLE", "notifications"));
      for (const auto& m : resp.messages()) ++out[nv1::MessageState_Name(m.state())];
      if (resp.next_page_token().empty()) break;
      req.set_page_token(resp.next_page_token());
    }
    return out;
  }

 private:
  std::string token_;
  std::unique_ptr<cv1::CertificateService::Stub> certificates_;
  std::unique_ptr<nv1::NotificationService::Stub> notifications_;
};

}  // namespace

std::unique_ptr<ReportPeers> GrpcReportPeers(const std::string& certificates_address,
                                             const std::string& notifications_address,
                                             const std::string& token) {
  return std::make_unique<GrpcPeers>(certificates_address, notifications_address, token);
}

}  // namespace ecd::registration
