#pragma once
// Ed25519 signatures (OpenSSL 3) over a certificate's canonical payload (payload.hpp). Keys are PEM
// files (from disk or a mounted Kubernetes Secret): one private key signs, any number of public
// keys verify (rotation: certificates signed with the previous key keep verifying). The key id is
// the first 16 hex digits of the SHA-256 of the raw public key, and is part of the signed payload.
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

}  // namespace ecd::certificates
