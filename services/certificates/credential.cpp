#include "services/certificates/credential.hpp"

#include <algorithm>
#include <cstdio>

#include "common/crypto.hpp"
#include "common/time.hpp"
#include "services/certificates/payload.hpp"

namespace ecd::certificates {
namespace {

// Code points of a UTF-8 string as UTF-16 code units (what RFC 8785 sorts names by).
std::u16string Utf16(const std::string& s) {
  std::u16string out;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    uint32_t cp = c;
    size_t n = 1;
    if (c >= 0xF0) {
      cp = c & 0x07, n = 4;
    } else if (c >= 0xE0) {
      cp = c & 0x0F, n = 3;
    } else if (c >= 0xC0) {
      cp = c & 0x1F, n = 2;
    }
    for (size_t k = 1; k < n && i + k < s.size(); ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    }
    i += n;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      out.push_back(static_cast<char16_t>(cp));
    }
  }
  return out;
}

void AppendString(const std::string& s, std::string* out) {
  out->push_back('"');
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\b':
        *out += "\\b";
        break;
      case '\f':
        *out += "\\f";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          *out += buf;
        } else {
          out->push_back(ch);
        }
    }
  }
  out->push_back('"');
}

constexpr std::string_view kContextV2 = "https://www.w3.org/ns/credentials/v2";

}  // namespace

std::string Json::Canonical() const {
  std::string out;
  if (const auto* s = std::get_if<std::string>(&v_)) {
    AppendString(*s, &out);
  } else if (const auto* n = std::get_if<int64_t>(&v_)) {
    out = std::to_string(*n);
  } else if (const auto* b = std::get_if<bool>(&v_)) {
    out = *b ? "true" : "false";
  } else if (const auto* a = std::get_if<Array>(&v_)) {
    out = "[";
    for (size_t i = 0; i < a->size(); ++i) {
      if (i > 0) out += ',';
      out += (*a)[i].Canonical();
    }
    out += ']';
  } else {
    const auto& o = std::get<Object>(v_);
    std::vector<const Object::value_type*> members;
    for (const auto& m : o) members.push_back(&m);
    std::sort(members.begin(), members.end(),
              [](const auto* x, const auto* y) { return Utf16(x->first) < Utf16(y->first); });
    out = "{";
    for (size_t i = 0; i < members.size(); ++i) {
      if (i > 0) out += ',';
      AppendString(members[i]->first, &out);
      out += ':';
      out += members[i]->second.Canonical();
    }
    out += '}';
  }
  return out;
}

std::string MultibaseBase58(const std::string& bytes) {
  static constexpr char kAlphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  std::vector<unsigned char> digits;  // base 58, least significant first
  for (unsigned char byte : bytes) {
    int carry = byte;
    for (auto& d : digits) {
      carry += d * 256;
      d = static_cast<unsigned char>(carry % 58);
      carry /= 58;
    }
    while (carry > 0) {
      digits.push_back(static_cast<unsigned char>(carry % 58));
      carry /= 58;
    }
  }
  std::string out = "z";
  for (size_t i = 0; i < bytes.size() && bytes[i] == '\0'; ++i) out += '1';
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) out += kAlphabet[*it];
  return out;
}

VerificationMethod MethodFor(const std::string& issuer, const std::string& raw_public_key,
                             const std::string& key_id) {
  VerificationMethod m;
  // Multikey: the multicodec prefix of an Ed25519 public key (0xed 0x01), then the key.
  m.public_key_multibase = MultibaseBase58(std::string("\xed\x01", 2) + raw_public_key);
  if (issuer.empty()) {
    m.controller = "did:key:" + m.public_key_multibase;
    m.id = m.controller + "#" + m.public_key_multibase;
  } else {
    m.controller = issuer;
    m.id = issuer + "#" + key_id;
  }
  m.document = Json(Json::Object{{"@context", "https://w3id.org/security/multikey/v1"},
                                 {"id", m.id},
                                 {"type", "Multikey"},
                                 {"controller", m.controller},
                                 {"publicKeyMultibase", m.public_key_multibase}})
                   .Canonical();
  return m;
}

std::string IssueCredential(const CredentialInput& in, const Keyring& keys) {
  std::string raw_key;
  for (const auto& k : keys.PublicKeys()) {
    if (k.signing) Base64UrlDecode(k.public_key_base64url, &raw_key);
  }
  const VerificationMethod method = MethodFor(in.issuer, raw_key, keys.signing_key_id());
  const CertifiedFacts& f = in.facts;
  const std::string issued = FormatRfc3339(in.issue_micros / kMicrosPerSecond * kMicrosPerSecond);
  Json::Object event = {{"type", "Event"},
                        {"name", f.event_title},
                        {"startDate", f.event_start},
                        {"endDate", f.event_end},
                        {"durationMinutes", f.duration_minutes},
                        {"inLanguage", f.language}};
  if (!f.series_title.empty())
    event.insert_or_assign("superEvent", Json::Object{{"name", f.series_title}});
  Json document = Json::Object{
      {"@context", Json::Array{std::string(kContextV2)}},
      {"id", "urn:uuid:" + in.certificate_id},
      {"type", Json::Array{"VerifiableCredential", "CertificateOfParticipation"}},
      {"name", "Certificate of participation"},
      {"issuer", Json::Object{{"id", method.controller}, {"name", f.issuer}}},
      {"validFrom", issued},
      {"credentialSubject",
       Json::Object{
           {"type", "WebinarParticipant"},
           // The holder's name only as a salted commitment (see the signed payload): the holder
           // proves it with the name and salt printed on their certificate.
           {"nameCommitment", Json::Object{{"type", "SaltedSha256Commitment"},
                                           {"digest", f.name_commitment},
                                           {"algorithm", "base64url(SHA-256(salt || NFC(name)))"}}},
           {"attended", Json::Object(event)},
           {"serialNumber", f.serial},
           {"verificationCode", f.verification_code},
       }},
  };
  // eddsa-jcs-2022: the proof configuration carries the document's context.
  Json proof = Json::Object{{"@context", Json::Array{std::string(kContextV2)}},
                            {"type", "DataIntegrityProof"},
                            {"cryptosuite", "eddsa-jcs-2022"},
                            {"created", issued},
                            {"verificationMethod", method.id},
                            {"proofPurpose", "assertionMethod"}};
  const std::string hash_data = Sha256Raw(proof.Canonical()) + Sha256Raw(document.Canonical());
  proof.object().insert_or_assign("proofValue", MultibaseBase58(keys.Sign(hash_data)));
  document.object().insert_or_assign("proof", proof);
  return document.Canonical();
}

}  // namespace ecd::certificates
