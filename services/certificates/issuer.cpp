#include "services/certificates/issuer.hpp"

#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>

#include <ctime>

#include "common/crypto.hpp"
#include "common/event_lifecycle.hpp"
#include "common/metrics.hpp"
#include "common/paging.hpp"
#include "common/peer_call.hpp"
#include "common/resource_name.hpp"
#include "common/text.hpp"
#include "common/time.hpp"
#include "ecd/registration/v1/registration.grpc.pb.h"
#include "services/certificates/eligibility.hpp"
#include "services/certificates/payload.hpp"

namespace ecd::certificates {
namespace {

namespace cat = ::ecd::catalogue::v1;
namespace reg = ::ecd::registration::v1;
using google::protobuf::util::TimeUtil;
constexpr Role kAdmin = Role::kAdmin, kFrontend = Role::kFrontend,
               kIntegration = Role::kIntegration, kService = Role::kService;

// Random characters without the ones people confuse (0/O, 1/I/L).
std::string Code(size_t n) {
  static const char* kAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
  std::string bytes = RandomBytes(n), out;
  for (unsigned char b : bytes) out += kAlphabet[b % 31];
  return out;
}

v1::CertifiedFacts ToProto(const CertifiedFacts& f) {
  v1::CertifiedFacts p;
  p.set_serial(f.serial);
  p.set_verification_code(f.verification_code);
  p.set_participant_name(f.participant_name);
  p.set_event_title(f.event_title);
  p.set_series_title(f.series_title);
  p.set_event_start(f.event_start);
  p.set_event_end(f.event_end);
  p.set_duration_minutes(f.duration_minutes);
  p.set_language(f.language);
  p.set_issuer(f.issuer);
  p.set_issue_date(f.issue_date);
  p.set_key_id(f.key_id);
  p.set_name_commitment(f.name_commitment);
  p.set_version(f.version);
  return p;
}

// `holder`: the answer goes to the holder (or admin/service): it carries the printed name and
// the salt that prove the name against the commitment.
v1::Certificate ToProto(const StoredCertificate& s, bool holder = true) {
  v1::Certificate c;
  c.set_name("certificates/" + s.id);
  c.set_registration("registrations/" + s.registration_id);
  c.set_event("events/" + s.event_id);
  if (auto facts = ParsePayload(s.payload); facts.ok()) *c.mutable_facts() = ToProto(*facts);
  c.set_payload(s.payload);
  c.set_signature(s.signature);
  c.set_state(s.revoke_micros ? v1::CERTIFICATE_STATE_REVOKED : v1::CERTIFICATE_STATE_VALID);
  c.set_revoke_reason(s.revoke_reason);
  if (s.revoke_micros) SetMicros(s.revoke_micros, c.mutable_revoke_time());
  SetMicros(s.issue_micros, c.mutable_issue_time());
  c.set_document_language(s.document_language);
  c.set_pdf_sha256(s.pdf_sha256);
  c.set_pdf_size_bytes(s.pdf_size);
  if (holder) {
    c.set_holder_name(s.holder_name);
    c.set_name_salt(s.name_salt);
  }
  return c;
}

std::string Today() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

}  // namespace

RoleTable CertificateRoles() {
  return RoleTable{
      {"RequestCertificate", {kAdmin, kFrontend}},
      {"GetCertificate", {kAdmin, kService}},
      {"ListCertificates", {kAdmin}},
      {"DownloadCertificate", {kAdmin, kFrontend}},
      {"VerifyCertificate", {kAdmin, kFrontend, kIntegration}},
      {"RevokeCertificate", {kAdmin}},
      {"ListSigningKeys", {kAdmin, kFrontend, kIntegration, kService}},
  };
}

StatusOr<int> Issuer::FollowErasures() {
  ECD_ASSIGN_OR_RETURN(auto token, store_.ErasureResumeToken());
  auto feed = registrations_.Erasures(token);
  if (!feed.ok() && feed.status().code() == Code::kInvalidArgument) {
    feed = registrations_.Erasures("");  // a token from another key: start again (idempotent)
  }
  if (!feed.ok()) return feed.status();
  if (feed->first.empty() && feed->second == token) return 0;
  return store_.Erase(
      feed->first,
      [](const std::string& payload) {
        auto facts = ParsePayload(payload);
        if (!facts.ok()) return std::string();
        if (facts->version >= 2) return payload;  // names nobody: it stays, still verifying
        facts->participant_name = "";
        return CanonicalPayload(*facts);
      },
      feed->second);
}

Status Issuer::CheckHolder(const CallContext& c, const std::string& registration_id,
                           const std::string& participant_key) {
  if (c.role != Role::kFrontend) return Status::Ok();
  if (participant_key.empty()) return Status::InvalidArgument("participant_key", "is required");
  return registrations_.Get(registration_id, participant_key).status();
}

Status Issuer::RequestCertificate(const CallContext& caller,
                                  const v1::RequestCertificateRequest& req,
                                  v1::RequestCertificateResponse* resp) {
  ECD_ASSIGN_OR_RETURN(auto reg_id,
                       ParseResourceName(req.registration(), "registrations", "registration"));
  // Only the registration's holder (or admin): a certificate names its holder.
  ECD_RETURN_IF_ERROR(CheckHolder(caller, reg_id, req.participant_key()));
  ECD_ASSIGN_OR_RETURN(auto existing, store_.Find("registration", reg_id));
  if (existing.has_value()) {  // one certificate per registration
    *resp->mutable_certificate() = ToProto(*existing);
    return Credential(*existing, req.view(), resp->mutable_verifiable_credential());
  }
  ECD_ASSIGN_OR_RETURN(auto registration, registrations_.Get(reg_id));
  if (registration.erased()) {
    return Status::FailedPrecondition("PERSONAL_DATA_ERASED",
                                      "the participant's personal data were erased");
  }
  const std::string event_id = IdOf(registration.event());
  ECD_ASSIGN_OR_RETURN(auto event, catalogue_.GetEvent(event_id));
  ECD_RETURN_IF_ERROR(CheckEligibility(event, registration, NowMicros()));
  const int duration = event.duration_minutes();
  std::string series_title;
  if (!event.series().empty()) {
    ECD_ASSIGN_OR_RETURN(auto series, catalogue_.GetSeries(IdOf(event.series())));
    series_title = series.title();
  }
  CertifiedFacts facts;
  const std::string start = TimeUtil::ToString(event.start_time());
  facts.serial = "ECD-" + start.substr(0, 4) + "-" + start.substr(5, 2) + start.substr(8, 2) + "-" +
                 Code(4) + "-" + Code(4);
  facts.verification_code = Code(16);
  // The name as its owner wants it printed, composed (NFC): the same name typed in two Unicode
  // forms commits to the same bytes. Only its salted commitment is signed.
  const auto& who = registration.participant();
  const std::string printed_name =
      Nfc(who.certificate_name().empty() ? who.given_name() + " " + who.family_name()
                                         : who.certificate_name());
  const std::string salt = RandomBytes(16);
  facts.version = 2;
  facts.name_commitment = NameCommitment(salt, printed_name);
  facts.event_title = event.title();
  facts.series_title = series_title;
  facts.event_start = start;
  facts.event_end = TimeUtil::ToString(event.end_time());
  facts.duration_minutes = duration;
  facts.language = event.language_code();
  facts.issuer = options_.issuer;
  facts.issue_date = Today();
  facts.key_id = keys_.signing_key_id();
  const std::string payload = CanonicalPayload(facts);

  DocumentOptions doc;
  doc.language = registration.participant().preferred_language();
  if (doc.language != "fr" && doc.language != "es") doc.language = "en";
  const Holder holder{printed_name, Base64UrlEncode(salt)};
  // The QR code carries the verification code, and after '#' (never sent to a web server) the
  // salt that proves the printed name.
  doc.qr_text = options_.verify_url_prefix + facts.verification_code + "#salt=" + holder.salt;
  doc.font_files = options_.font_files;
  // A name the fonts cannot draw is refused before anything is signed or stored.
  const auto render_start = std::chrono::steady_clock::now();
  auto pdf = RenderCertificatePdf(facts, holder, doc);
  Histogram("ecd_certificate_render_seconds", "Time to lay out and draw one certificate's PDF.", {},
            {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5})
      .Observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - render_start).count());
  if (!pdf.ok() && pdf.status().field() == "participant_name") {
    return Status::InvalidArgument(
        "participant.certificate_name",
        "the name has characters the certificate's fonts cannot print: " + pdf.status().message() +
            "; give a certificate_name in a script they cover");
  }
  if (!pdf.ok()) return pdf.status();

  StoredCertificate c;
  c.id = NewUuid();
  c.registration_id = reg_id;
  c.event_id = event_id;
  c.serial = facts.serial;
  c.verification_code = facts.verification_code;
  c.payload = payload;
  c.signature = Base64UrlEncode(keys_.Sign(payload));
  c.key_id = facts.key_id;
  c.document_language = doc.language;
  c.pdf = std::move(*pdf);
  c.pdf_sha256 = Sha256Hex(c.pdf);
  c.holder_name = holder.name;
  c.name_salt = holder.salt;
  auto stored = store_.InsertOrGet(c);  // a concurrent request may have won: theirs is returned
  if (!stored.ok()) return stored.status();
  if (stored->id == c.id) {
    Counter("ecd_certificates_issued_total", "Certificates issued (signed and stored).").Inc();
  }
  *resp->mutable_certificate() = ToProto(*stored);
  return Credential(*stored, req.view(), resp->mutable_verifiable_credential());
}

Status Issuer::Credential(const StoredCertificate& c, v1::CertificateView view,
                          std::string* out) const {
  if (view != v1::CERTIFICATE_VIEW_VERIFIABLE_CREDENTIAL) return Status::Ok();
  auto facts = ParsePayload(c.payload);
  if (!facts.ok()) return Status::Internal("stored payload unreadable");
  if (facts->version < 2) {
    return Status::FailedPrecondition(
        "CREDENTIAL_UNAVAILABLE",
        "this certificate was issued before credentials (its payload names the holder in clear)");
  }
  *out = IssueCredential(CredentialInput{c.id, *facts, c.issue_micros, options_.credential_issuer,
                                         c.document_language},
                         keys_);
  return Status::Ok();
}

Status Issuer::GetCertificate(const CallContext&, const v1::GetCertificateRequest& req,
                              v1::GetCertificateResponse* resp) {
  ECD_ASSIGN_OR_RETURN(auto id, ParseResourceName(req.name(), "certificates", "name"));
  ECD_ASSIGN_OR_RETURN(auto c, store_.Find("id", id));
  if (!c.has_value()) return Status::NotFound(req.name());
  Counter("ecd_certificates_revoked_total", "Revocations recorded (a repeated one counts again).")
      .Inc();
  *resp->mutable_certificate() = ToProto(*c);
  return Credential(*c, req.view(), resp->mutable_verifiable_credential());
}

Status Issuer::ListCertificates(const CallContext&, const v1::ListCertificatesRequest& req,
                                v1::ListCertificatesResponse* resp) {
  ECD_ASSIGN_OR_RETURN(auto size, CheckPageSize(req.page_size()));
  std::string event_id;
  if (!req.event().empty()) {
    ECD_ASSIGN_OR_RETURN(auto id, ParseResourceName(req.event(), "events", "event"));
    event_id = id;
  }
  const ListPaging paging(page_tokens_, "CertificateService/ListCertificates", req.event());
  ECD_ASSIGN_OR_RETURN(auto cursor, paging.Open(req.page_token()));
  std::string after_micros, after_id;
  if (cursor.has_value()) {
    after_micros = std::to_string(cursor->micros);
    after_id = cursor->id;
  }
  ECD_ASSIGN_OR_RETURN(auto rows, store_.List(event_id, after_micros, after_id, size + 1));
  for (int i = 0; i < static_cast<int>(rows.size()) && i < size; ++i) {
    *resp->add_certificates() = ToProto((rows)[i]);
  }
  if (static_cast<int>(rows.size()) > size) {
    const auto& last = (rows)[size - 1];
    resp->set_next_page_token(paging.Seal(last.issue_micros, last.id));
  }
  return Status::Ok();
}

Status Issuer::VerifyCertificate(const CallContext& c, const v1::VerifyCertificateRequest& req,
                                 v1::VerifyCertificateResponse* resp) {
  Status s = Verify(c, req, resp);
  if (s.ok()) {
    std::string result = v1::VerificationResult_Name(resp->result());
    if (result.rfind("VERIFICATION_RESULT_", 0) == 0) result.erase(0, 20);
    for (char& ch : result) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    Counter("ecd_certificate_verifications_total", "Verifications answered, by result.",
            {{"result", result}})
        .Inc();
  }
  return s;
}

Status Issuer::Verify(const CallContext&, const v1::VerifyCertificateRequest& req,
                      v1::VerifyCertificateResponse* resp) {
  std::optional<StoredCertificate> found;
  switch (req.subject_case()) {
    case v1::VerifyCertificateRequest::kSerial:
    case v1::VerifyCertificateRequest::kVerificationCode: {
      const bool by_serial = req.subject_case() == v1::VerifyCertificateRequest::kSerial;
      const std::string& value = by_serial ? req.serial() : req.verification_code();
      if (value.empty() || value.size() > 64) {
        return Status::InvalidArgument(by_serial ? "serial" : "verification_code",
                                       "must be 1 to 64 characters");
      }
      ECD_ASSIGN_OR_RETURN(auto c, store_.Find(by_serial ? "serial" : "code", value));
      found = c;
      if (!found) {
        resp->set_result(v1::VERIFICATION_RESULT_UNKNOWN);
        return Status::Ok();
      }
      // What is stored is checked too: a tampered row must not verify. (After an erasure the
      // stored payload lacks the name, so only the signed payload itself can be checked.)
      std::string signature;
      if (!found->erased && (!Base64UrlDecode(found->signature, &signature) ||
                             !keys_.Verify(found->key_id, found->payload, signature))) {
        resp->set_result(v1::VERIFICATION_RESULT_INVALID_SIGNATURE);
        return Status::Ok();
      }
      break;
    }
    case v1::VerifyCertificateRequest::kSigned: {
      const auto& s = req.signed_();
      if (s.payload().size() > 16384) return Status::InvalidArgument("signed.payload", "too long");
      auto facts = ParsePayload(s.payload());
      std::string signature;
      if (!facts.ok() || !Base64UrlDecode(s.signature(), &signature) ||
          !keys_.Verify(facts->key_id, s.payload(), signature)) {
        resp->set_result(v1::VERIFICATION_RESULT_INVALID_SIGNATURE);
        return Status::Ok();
      }
      ECD_ASSIGN_OR_RETURN(auto c, store_.Find("serial", facts->serial));
      found = c;
      // Erased certificates keep only the payload's hash: it must be this payload's.
      const bool same = found && (found->erased ? found->payload_sha256 == Sha256Hex(s.payload())
                                                : found->payload == s.payload());
      if (!same) {
        resp->set_result(v1::VERIFICATION_RESULT_UNKNOWN);
        return Status::Ok();
      }
      found->payload = s.payload();  // the holder's payload names them: answer with its facts
      break;
    }
    default:
      return Status::InvalidArgument("subject", "give a serial, a verification code or a payload");
  }
  auto facts = ParsePayload(found->payload);
  if (facts.ok()) *resp->mutable_facts() = ToProto(*facts);
  if (!req.holder_name().empty() || !req.name_salt().empty()) {
    if (req.holder_name().size() > 1000 || req.name_salt().size() > 64) {
      return Status::InvalidArgument("holder_name", "too long");
    }
    const std::string name = Nfc(req.holder_name());
    std::string salt;
    bool match = false;
    if (facts.ok() && facts->version >= 2) {
      match = Base64UrlDecode(req.name_salt(), &salt) &&
              ConstantTimeEquals(NameCommitment(salt, name), facts->name_commitment);
    } else if (facts.ok()) {
      match = !name.empty() && name == Nfc(facts->participant_name);
    }
    resp->set_name_check(match ? v1::NAME_CHECK_MATCH : v1::NAME_CHECK_MISMATCH);
  }
  if (found->revoke_micros) {
    resp->set_result(v1::VERIFICATION_RESULT_REVOKED);
    resp->set_revoke_reason(found->revoke_reason);
    SetMicros(found->revoke_micros, resp->mutable_revoke_time());
  } else {
    resp->set_result(v1::VERIFICATION_RESULT_VALID);
  }
  return Status::Ok();
}

Status Issuer::RevokeCertificate(const CallContext&, const v1::RevokeCertificateRequest& req,
                                 v1::RevokeCertificateResponse* resp) {
  ECD_ASSIGN_OR_RETURN(auto id, ParseResourceName(req.name(), "certificates", "name"));
  if (req.reason().empty() || req.reason().size() > 1000) {
    return Status::InvalidArgument("reason", "is required (up to 1000 characters)");
  }
  ECD_ASSIGN_OR_RETURN(auto c, store_.Revoke(id, req.reason()));
  if (!c.has_value()) return Status::NotFound(req.name());
  Counter("ecd_certificates_revoked_total", "Revocations recorded (a repeated one counts again).")
      .Inc();
  *resp->mutable_certificate() = ToProto(*c);
  return Status::Ok();
}

Status Issuer::ListSigningKeys(const CallContext&, const v1::ListSigningKeysRequest&,
                               v1::ListSigningKeysResponse* resp) {
  for (const auto& k : keys_.PublicKeys()) {
    auto* key = resp->add_keys();
    key->set_key_id(k.key_id);
    key->set_algorithm("Ed25519");
    key->set_public_key_pem(k.public_key_pem);
    key->set_public_key(k.public_key_base64url);
    key->set_signing(k.signing);
    std::string raw;
    Base64UrlDecode(k.public_key_base64url, &raw);
    const VerificationMethod method = MethodFor(options_.credential_issuer, raw, k.key_id);
    key->set_verification_method(method.id);
    key->set_multikey(method.document);
  }
  return Status::Ok();
}

StatusOr<std::pair<v1::Certificate, std::string>> Issuer::Document(
    const CallContext& caller, const std::string& name, const std::string& participant_key) {
  ECD_ASSIGN_OR_RETURN(auto id, ParseResourceName(name, "certificates", "name"));
  if (caller.role == Role::kFrontend && participant_key.empty()) {
    return Status::InvalidArgument("participant_key", "is required");
  }
  ECD_ASSIGN_OR_RETURN(auto c, store_.Find("id", id, /*with_pdf=*/true));
  if (!c.has_value()) {
    // Unknown to a key holder looks like a wrong key: nothing to learn by guessing names.
    if (caller.role == Role::kFrontend) {
      return Status(Code::kPermissionDenied, "INVALID_PARTICIPANT_KEY",
                    "the participant key does not open this certificate")
          .With("field", "participant_key");
    }
    return Status::NotFound(name);
  }
  ECD_RETURN_IF_ERROR(CheckHolder(caller, c->registration_id, participant_key));
  if (c->erased) {
    return Status::FailedPrecondition("PERSONAL_DATA_ERASED",
                                      "the participant's data were erased; the PDF with them");
  }
  return std::make_pair(ToProto(*c), std::move(c->pdf));
}

}  // namespace ecd::certificates
