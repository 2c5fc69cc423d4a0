#pragma once
// The certificate as a W3C Verifiable Credential (VC Data Model 2.0) secured with a Data
// Integrity proof of the eddsa-jcs-2022 cryptosuite (W3C "Data Integrity EdDSA Cryptosuites
// v1.0"): the credential and the proof configuration are canonicalised with JCS (RFC 8785),
// hashed with SHA-256 each, and the 64 bytes signed with Ed25519. The verification method is a
// Multikey; by default the issuer is the key's did:key, so that any conforming verifier can check
// the credential offline.
#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "services/certificates/payload.hpp"
#include "services/certificates/signing.hpp"

namespace ecd::certificates {

// A JSON value, written canonically (RFC 8785): object members sorted by their names' UTF-16 code
// units, no whitespace, strings escaped as ECMAScript's JSON.stringify does, integers only.
class Json {
 public:
  using Array = std::vector<Json>;
  using Object = std::map<std::string, Json>;
  Json(const char* s) : v_(std::string(s)) {}  // NOLINT: JSON literals read naturally
  Json(std::string s) : v_(std::move(s)) {}    // NOLINT
  Json(int64_t n) : v_(n) {}                   // NOLINT
  Json(int n) : v_(int64_t{n}) {}              // NOLINT
  Json(bool b) : v_(b) {}                      // NOLINT
  Json(Array a) : v_(std::move(a)) {}          // NOLINT
  Json(Object o) : v_(std::move(o)) {}         // NOLINT
  std::string Canonical() const;
  Object& object() { return std::get<Object>(v_); }

 private:
  std::variant<std::string, int64_t, bool, Array, Object> v_;
};

// Multibase base58-btc ("z…") of `bytes`.
std::string MultibaseBase58(const std::string& bytes);

// How a key is named in proofs, and its Multikey document.
struct VerificationMethod {
  std::string id;          // "did:key:z6Mk…#z6Mk…" or "<issuer>#<key id>"
  std::string controller;  // the issuer
  std::string public_key_multibase;
  std::string document;  // the Multikey document (JSON)
};
// `issuer`: the issuer's id (a DID or URL); empty for the key's own did:key. `raw_public_key`:
// the 32-byte Ed25519 public key.
VerificationMethod MethodFor(const std::string& issuer, const std::string& raw_public_key,
                             const std::string& key_id);

struct CredentialInput {
  std::string certificate_id;  // the resource id (a UUID)
  CertifiedFacts facts;        // version 2 (the name only as a commitment)
  int64_t issue_micros = 0;    // validFrom and the proof's created
  std::string issuer;          // as for MethodFor
  std::string document_language;
};

// The secured credential (JSON), signed by `keys`' signing key.
std::string IssueCredential(const CredentialInput& in, const Keyring& keys);

}  // namespace ecd::certificates
