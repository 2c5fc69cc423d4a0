#include "services/certificates/service.hpp"

#include "common/download.hpp"

namespace ecd::certificates {

grpc::ServerWriteReactor<v1::DownloadCertificateResponse>*
CertificateServiceImpl::DownloadCertificate(grpc::CallbackServerContext* ctx,
                                            const v1::DownloadCertificateRequest* req) {
  return new DownloadReactor<v1::DownloadCertificateResponse>(
      ctx, calls_, "DownloadCertificate",
      [this, req](const CallContext& c) -> StatusOr<Blob<v1::DownloadCertificateResponse>> {
        ECD_ASSIGN_OR_RETURN(auto doc, issuer_.Document(c, req->name(), req->participant_key()));
        Blob<v1::DownloadCertificateResponse> blob;
        *blob.first.mutable_certificate() = std::move(doc.first);
        blob.bytes = std::move(doc.second);
        return blob;
      },
      [](v1::DownloadCertificateResponse* msg, std::string chunk) {
        msg->set_chunk(std::move(chunk));
      });
}

}  // namespace ecd::certificates
