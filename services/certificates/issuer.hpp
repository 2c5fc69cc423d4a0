#pragma once
// The certificates service's logic, free of gRPC: eligibility (the event is completed and the
// participant attended at least the event's threshold), issuing (canonical payload, Ed25519
// signature, PDF in the participant's language with the QR code), verification and revocation.
#include <functional>
#include <memory>
#include <string>

#include "common/auth.hpp"
#include "common/catalogue_client.hpp"
#include "common/page_token.hpp"
#include "common/status.hpp"
#include "ecd/certificates/v1/certificates.pb.h"
#include "ecd/registration/v1/registration.pb.h"
#include "services/certificates/credential.hpp"
#include "services/certificates/document.hpp"
#include "services/certificates/peers.hpp"
#include "services/certificates/signing.hpp"
#include "services/certificates/store.hpp"

namespace ecd::certificates {

namespace v1 = ::ecd::certificates::v1;

RoleTable CertificateRoles();

struct IssuerOptions {
  std::string issuer = "Council of Europe, with EU Cyber Direct";
  // Prepended to the verification code in the QR code (a verification page); empty: the code.
  std::string verify_url_prefix;
  // The fonts the PDF may use; empty: DefaultFontFiles().
  std::vector<std::string> font_files;
  // The issuer of Verifiable Credentials (a DID or URL whose DID document lists the keys'
  // Multikeys); empty: each key's own did:key, which verifiers resolve offline.
  std::string credential_issuer;
};

class Issuer {
 public:
  Issuer(Store& store, CatalogueReader& catalogue, RegistrationReader& registrations,
         const Keyring& keys, const PageTokens& page_tokens, IssuerOptions options)
      : store_(store),
        catalogue_(catalogue),
        registrations_(registrations),
        keys_(keys),
        page_tokens_(page_tokens),
        options_(std::move(options)) {}

  Status RequestCertificate(const CallContext& c, const v1::RequestCertificateRequest& req,
                            v1::RequestCertificateResponse* resp);
  Status GetCertificate(const CallContext& c, const v1::GetCertificateRequest& req,
                        v1::GetCertificateResponse* resp);
  Status ListCertificates(const CallContext& c, const v1::ListCertificatesRequest& req,
                          v1::ListCertificatesResponse* resp);
  Status VerifyCertificate(const CallContext& c, const v1::VerifyCertificateRequest& req,
                           v1::VerifyCertificateResponse* resp);
  Status RevokeCertificate(const CallContext& c, const v1::RevokeCertificateRequest& req,
                           v1::RevokeCertificateResponse* resp);
  Status ListSigningKeys(const CallContext& c, const v1::ListSigningKeysRequest& req,
                         v1::ListSigningKeysResponse* resp);
  // The certificate and its PDF, for the download stream (frontends give the participant key).
  StatusOr<std::pair<v1::Certificate, std::string>> Document(const CallContext& c,
                                                             const std::string& name,
                                                             const std::string& participant_key);
  // Reads the registration service's erasure feed once and forgets the names of the erased
  // participants' certificates. Returns how many certificates were erased.
  StatusOr<int> FollowErasures();

 private:
  Status Verify(const CallContext& c, const v1::VerifyCertificateRequest& req,
                v1::VerifyCertificateResponse* resp);
  // A frontend must give the registration's participant key; the registration service checks it.
  Status CheckHolder(const CallContext& c, const std::string& registration_id,
                     const std::string& participant_key);
  // The credential of `c` into `out` when `view` asks for it.
  Status Credential(const StoredCertificate& c, v1::CertificateView view, std::string* out) const;

  Store& store_;
  CatalogueReader& catalogue_;
  RegistrationReader& registrations_;
  const Keyring& keys_;
  const PageTokens& page_tokens_;
  IssuerOptions options_;
};

}  // namespace ecd::certificates
