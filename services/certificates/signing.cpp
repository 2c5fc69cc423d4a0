#include "services/certificates/signing.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <climits>
#include <cstdint>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "common/crypto.hpp"

namespace ecd::certificates {
namespace {

constexpr size_t kRawKeySize = 32;
constexpr size_t kSignatureSize = 64;

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

// OpenSSL keeps failures in a per-thread queue; a failed parse must not leave them behind for
// the next, unrelated caller on this thread.
std::string TakeOpenSslError() {
  unsigned long e = ERR_get_error();  // NOLINT(runtime/int): OpenSSL's type
  std::string out;
  if (e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out = buf;
  }
  ERR_clear_error();
  return out;
}

BioPtr MemBio(const std::string& text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);  // NOLINT(runtime/int): OpenSSL's type
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

PkeyPtr ReadPrivateKey(const std::string& pem) {
  BioPtr bio = MemBio(pem);
  if (!bio) return nullptr;
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) TakeOpenSslError();
  return key;
}

PkeyPtr ReadPublicKey(const std::string& pem) {
  BioPtr bio = MemBio(pem);
  if (!bio) return nullptr;
  PkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) TakeOpenSslError();
  return key;
}

bool IsEd25519(EVP_PKEY* key) { return EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519; }

std::string RawPublicKey(EVP_PKEY* key) {
  unsigned char raw[kRawKeySize];
  size_t len = sizeof raw;
  if (EVP_PKEY_get_raw_public_key(key, raw, &len) != 1 || len != kRawKeySize) {
    TakeOpenSslError();
    return {};
  }
  return std::string(reinterpret_cast<const char*>(raw), len);
}

std::string PublicPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1) {
    TakeOpenSslError();
    return {};
  }
  return BioText(bio.get());
}

std::string KeyIdOfRaw(const std::string& raw) { return Sha256Hex(raw).substr(0, 16); }

Status NotEd25519(const std::string& what) {
  return Status::FailedPrecondition("SIGNING_KEY_NOT_ED25519", what + " is not an Ed25519 key");
}

}  // namespace

struct Keyring::Impl {
  struct Entry {
    PkeyPtr key;  // public part only for verify-only keys
    PublicKeyInfo info;
  };
  PkeyPtr signing_key;      // the private key, or null in an empty keyring
  std::vector<Entry> keys;  // the signing key's public part first, then the others in order

  const Entry* Find(const std::string& key_id) const {
    for (const Entry& e : keys) {
      if (e.info.key_id == key_id) return &e;
    }
    return nullptr;
  }

  // Adds the public part of `key`; a key already present (the same raw bytes) is not repeated.
  Status Add(EVP_PKEY* key, bool signing, const std::string& what) {
    std::string raw = RawPublicKey(key);
    if (raw.empty()) return NotEd25519(what);
    std::string id = KeyIdOfRaw(raw);
    if (Find(id) != nullptr) return Status::Ok();
    // A public-only copy, so that verification never touches the private key.
    PkeyPtr pub(EVP_PKEY_new_raw_public_key(
        EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(raw.data()), raw.size()));
    if (!pub) return Status::Internal("cannot load the public part of " + what);
    Entry e;
    e.info.key_id = id;
    e.info.public_key_pem = PublicPem(pub.get());
    e.info.public_key_base64url = Base64UrlEncode(raw);
    e.info.signing = signing;
    if (e.info.public_key_pem.empty()) return Status::Internal("cannot write " + what);
    e.key = std::move(pub);
    keys.push_back(std::move(e));
    return Status::Ok();
  }
};

Keyring::Keyring() : impl_(std::make_unique<Impl>()) {}
Keyring::~Keyring() = default;
Keyring::Keyring(Keyring&&) noexcept = default;
Keyring& Keyring::operator=(Keyring&&) noexcept = default;

StatusOr<Keyring> Keyring::FromPem(const std::string& signing_key_pem,
                                   const std::vector<std::string>& verify_public_pems) {
  Keyring ring;
  PkeyPtr signing = ReadPrivateKey(signing_key_pem);
  if (!signing) {
    return Status::FailedPrecondition("SIGNING_KEY_UNREADABLE",
                                      "the signing key is not a PEM private key");
  }
  if (!IsEd25519(signing.get())) return NotEd25519("the signing key");
  ECD_RETURN_IF_ERROR(ring.impl_->Add(signing.get(), /*signing=*/true, "the signing key"));
  ring.impl_->signing_key = std::move(signing);
  ring.signing_key_id_ = ring.impl_->keys.front().info.key_id;
  for (size_t i = 0; i < verify_public_pems.size(); ++i) {
    const std::string what = "verification key #" + std::to_string(i + 1);
    PkeyPtr pub = ReadPublicKey(verify_public_pems[i]);
    if (!pub) {
      return Status::FailedPrecondition("VERIFY_KEY_UNREADABLE", what + " is not a PEM public key");
    }
    if (!IsEd25519(pub.get())) return NotEd25519(what);
    ECD_RETURN_IF_ERROR(ring.impl_->Add(pub.get(), /*signing=*/false, what));
  }
  return ring;
}

std::string Keyring::GeneratePrivateKeyPem() {
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!key || !bio ||
      PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    throw std::runtime_error("Ed25519 key generation failed: " + TakeOpenSslError());
  }
  return BioText(bio.get());
}

StatusOr<std::string> Keyring::PublicPemOf(const std::string& private_pem) {
  PkeyPtr key = ReadPrivateKey(private_pem);
  if (!key) {
    return Status::FailedPrecondition("SIGNING_KEY_UNREADABLE", "not a PEM private key");
  }
  if (!IsEd25519(key.get())) return NotEd25519("the key");
  std::string pem = PublicPem(key.get());
  if (pem.empty()) return Status::Internal("cannot write the public key");
  return pem;
}

std::string Keyring::Sign(const std::string& payload) const {
  if (!impl_ || !impl_->signing_key) return {};
  MdCtxPtr ctx(EVP_MD_CTX_new());
  unsigned char sig[kSignatureSize];
  size_t len = sizeof sig;
  // Ed25519 hashes internally: no digest, and the one-shot EVP_DigestSign.
  if (!ctx ||
      EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, impl_->signing_key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig, &len, reinterpret_cast<const unsigned char*>(payload.data()),
                     payload.size()) != 1 ||
      len != kSignatureSize) {
    TakeOpenSslError();
    return {};
  }
  return std::string(reinterpret_cast<const char*>(sig), len);
}

bool Keyring::Verify(const std::string& key_id, const std::string& payload,
                     const std::string& signature) const {
  if (!impl_ || signature.size() != kSignatureSize) return false;
  const Impl::Entry* entry = impl_->Find(key_id);
  if (entry == nullptr) return false;
  MdCtxPtr ctx(EVP_MD_CTX_new());
  bool ok =
      ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, entry->key.get()) == 1 &&
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                       signature.size(), reinterpret_cast<const unsigned char*>(payload.data()),
                       payload.size()) == 1;
  if (!ok) TakeOpenSslError();
  return ok;
}

bool Keyring::Knows(const std::string& key_id) const {
  return impl_ && impl_->Find(key_id) != nullptr;
}

std::vector<PublicKeyInfo> Keyring::PublicKeys() const {
  std::vector<PublicKeyInfo> out;
  if (!impl_) return out;
  for (const Impl::Entry& e : impl_->keys) out.push_back(e.info);
  return out;
}

}  // namespace ecd::certificates
