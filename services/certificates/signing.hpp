#pragma once
// Ed25519 signatures (OpenSSL 3) over a certificate's canonical payload. Keys are PEM files (from
// disk or a mounted Kubernetes Secret): one private key signs, any number of public keys verify
// (rotation: certificates signed with the previous key keep verifying). The key id is the first
// 16 hex digits of the SHA-256 of the raw public key, and is part of the signed payload.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.hpp"

namespace ecd::certificates {

struct PublicKeyInfo {
  std::string key_id;
  std::string public_key_pem;
  std::string public_key_base64url;  // the raw 32 bytes
  bool signing = false;              // the key that signs new certificates
};

class Keyring {
 public:
  // `signing_key_pem`: the private key that signs. `verify_public_pems`: other public keys that
  // still verify (previous keys). FAILED_PRECONDITION for a key that is not Ed25519.
  static StatusOr<Keyring> FromPem(const std::string& signing_key_pem,
                                   const std::vector<std::string>& verify_public_pems);
  // A fresh random key (development and tests); PEM of the private key in `private_pem`.
  static std::string GeneratePrivateKeyPem();
  static StatusOr<std::string> PublicPemOf(const std::string& private_pem);

  const std::string& signing_key_id() const { return signing_key_id_; }
  // Raw 64-byte signature of `payload` with the signing key.
  std::string Sign(const std::string& payload) const;
  // Whether `signature` is valid for `payload` under key `key_id` (false for unknown keys).
  bool Verify(const std::string& key_id, const std::string& payload,
              const std::string& signature) const;
  bool Knows(const std::string& key_id) const;
  std::vector<PublicKeyInfo> PublicKeys() const;

  Keyring();
  ~Keyring();
  Keyring(Keyring&&) noexcept;
  Keyring& operator=(Keyring&&) noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string signing_key_id_;
};

// The certified facts, in a canonical form: UTF-8 JSON with keys in a fixed order, no spaces,
// every string escaped the same way, so that the same facts always give the same bytes.
//
// Version 2 (every certificate issued now) holds no name: `name_commitment` is
// base64url(SHA-256(salt || NFC name)) with a 16-byte random salt that travels with the holder
// (PDF, QR code, the API answer to the holder) and never in the payload, so that erasing the
// name and salt leaves every signature valid. Version 1 (certificates issued before) held the name
// in clear and keeps verifying as it was signed.
struct CertifiedFacts {
  int version = 2;
  std::string serial;             // human-readable, like "ECD-2020-0709-4F2K-9QXM"
  std::string verification_code;  // what the QR code carries
  std::string participant_name;   // version 1 only
  std::string name_commitment;    // version 2 only
  std::string event_title;
  std::string series_title;
  std::string event_start;  // RFC 3339 UTC, like "2020-07-09T08:00:00Z"
  std::string event_end;
  int duration_minutes = 0;
  std::string language;    // the event's language, "fr"
  std::string issuer;      // "Council of Europe, with EU Cyber Direct"
  std::string issue_date;  // "2020-07-10"
  std::string key_id;
};

// The commitment to a name: base64url(SHA-256(salt || name)), `salt` as raw bytes. The caller
// gives the name NFC-normalised.
std::string NameCommitment(const std::string& salt, const std::string& nfc_name);
std::string CanonicalPayload(const CertifiedFacts& facts);
// Parses a canonical payload back; INVALID_ARGUMENT if it is not one.
StatusOr<CertifiedFacts> ParsePayload(const std::string& payload);

}  // namespace ecd::certificates
