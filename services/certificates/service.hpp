#pragma once
// The thin gRPC adapter of CertificateService.
#include "common/server.hpp"
#include "ecd/certificates/v1/certificates.grpc.pb.h"
#include "services/certificates/issuer.hpp"

namespace ecd::certificates {

inline constexpr char kServiceName[] = "ecd.certificates.v1.CertificateService";

class CertificateServiceImpl final : public v1::CertificateService::CallbackService {
 public:
  CertificateServiceImpl(Issuer& issuer, CallHandler& calls) : issuer_(issuer), calls_(calls) {}

  ECD_UNARY_METHOD(RequestCertificate, issuer_)
  ECD_UNARY_METHOD(GetCertificate, issuer_)
  ECD_UNARY_METHOD(ListCertificates, issuer_)
  ECD_UNARY_METHOD(VerifyCertificate, issuer_)
  ECD_UNARY_METHOD(RevokeCertificate, issuer_)
  ECD_UNARY_METHOD(ListSigningKeys, issuer_)

  grpc::ServerWriteReactor<v1::DownloadCertificateResponse>* DownloadCertificate(
      grpc::CallbackServerContext* ctx, const v1::DownloadCertificateRequest* req) override;

 private:
  Issuer& issuer_;
  CallHandler& calls_;
};

}  // namespace ecd::certificates
