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

// ---------------------------------------------------------------------------------------------
// The canonical payload.

namespace {

// The length of the well-formed UTF-8 sequence at s[i] (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), or 0 if there is none.
size_t Utf8SequenceLength(const std::string& s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  auto cont = [&](size_t k, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return k < s.size() && byte(k) >= lo && byte(k) <= hi;
  };
  unsigned char b = byte(i);
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (b >= 0xE0 && b <= 0xEF) {
    unsigned char lo = b == 0xE0 ? 0xA0 : 0x80;  // overlong
    unsigned char hi = b == 0xED ? 0x9F : 0xBF;  // surrogates
    return cont(i + 1, lo, hi) && cont(i + 2) ? 3 : 0;
  }
  if (b >= 0xF0 && b <= 0xF4) {
    unsigned char lo = b == 0xF0 ? 0x90 : 0x80;  // overlong
    unsigned char hi = b == 0xF4 ? 0x8F : 0xBF;  // above U+10FFFF
    return cont(i + 1, lo, hi) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  }
  return 0;
}

void AppendString(const std::string& s, std::string* out) {
  static const char* kHex = "0123456789abcdef";
  out->push_back('"');
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
      ++i;
    } else if (c < 0x20) {
      out->append("\\u00");
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
      ++i;
    } else if (size_t n = Utf8SequenceLength(s, i); n > 0) {
      out->append(s, i, n);
      i += n;
    } else {
      // Not UTF-8: the payload stays valid UTF-8 JSON, with U+FFFD for each stray byte.
      out->append("\xEF\xBF\xBD");
      ++i;
    }
  }
  out->push_back('"');
}

enum class Kind { kString, kInt };
struct Field {
  const char* name;
  Kind kind;
  std::string CertifiedFacts::*str;
  int CertifiedFacts::*num;
};

// The payload's keys, in their order. Version 1 (before name commitments) and version 2, which
// starts with "v":2 and holds the name's commitment instead of the name.
const Field kFieldsV1[] = {
    {"serial", Kind::kString, &CertifiedFacts::serial, nullptr},
    {"verification_code", Kind::kString, &CertifiedFacts::verification_code, nullptr},
    {"participant_name", Kind::kString, &CertifiedFacts::participant_name, nullptr},
    {"event_title", Kind::kString, &CertifiedFacts::event_title, nullptr},
    {"series_title", Kind::kString, &CertifiedFacts::series_title, nullptr},
    {"event_start", Kind::kString, &CertifiedFacts::event_start, nullptr},
    {"event_end", Kind::kString, &CertifiedFacts::event_end, nullptr},
    {"duration_minutes", Kind::kInt, nullptr, &CertifiedFacts::duration_minutes},
    {"language", Kind::kString, &CertifiedFacts::language, nullptr},
    {"issuer", Kind::kString, &CertifiedFacts::issuer, nullptr},
    {"issue_date", Kind::kString, &CertifiedFacts::issue_date, nullptr},
    {"key_id", Kind::kString, &CertifiedFacts::key_id, nullptr},
};
const Field kFieldsV2[] = {
    {"v", Kind::kInt, nullptr, &CertifiedFacts::version},
    {"serial", Kind::kString, &CertifiedFacts::serial, nullptr},
    {"verification_code", Kind::kString, &CertifiedFacts::verification_code, nullptr},
    {"name_commitment", Kind::kString, &CertifiedFacts::name_commitment, nullptr},
    {"event_title", Kind::kString, &CertifiedFacts::event_title, nullptr},
    {"series_title", Kind::kString, &CertifiedFacts::series_title, nullptr},
    {"event_start", Kind::kString, &CertifiedFacts::event_start, nullptr},
    {"event_end", Kind::kString, &CertifiedFacts::event_end, nullptr},
    {"duration_minutes", Kind::kInt, nullptr, &CertifiedFacts::duration_minutes},
    {"language", Kind::kString, &CertifiedFacts::language, nullptr},
    {"issuer", Kind::kString, &CertifiedFacts::issuer, nullptr},
    {"issue_date", Kind::kString, &CertifiedFacts::issue_date, nullptr},
    {"key_id", Kind::kString, &CertifiedFacts::key_id, nullptr},
};

template <size_t N>
std::string Encode(const CertifiedFacts& facts, const Field (&fields)[N]) {
  std::string out = "{";
  bool first = true;
  for (const Field& f : fields) {
    if (!first) out.push_back(',');
    first = false;
    out.push_back('"');
    out.append(f.name);
    out.append("\":");
    if (f.kind == Kind::kString) {
      AppendString(facts.*f.str, &out);
    } else {
      out.append(std::to_string(facts.*f.num));
    }
  }
  out.push_back('}');
  return out;
}

// A cursor over a payload that accepts only what CanonicalPayload writes.
class StrictReader {
 public:
  explicit StrictReader(const std::string& s) : s_(s) {}

  bool Literal(std::string_view lit) {
    if (s_.compare(pos_, lit.size(), lit) != 0) return false;
    pos_ += lit.size();
    return true;
  }
  bool AtEnd() const { return pos_ == s_.size(); }
  size_t pos() const { return pos_; }

  bool String(std::string* out) {
    if (!Literal("\"")) return false;
    out->clear();
    while (pos_ < s_.size()) {
      unsigned char c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c == '\\') {
        if (pos_ + 1 >= s_.size()) return false;
        char e = s_[pos_ + 1];
        if (e == '"' || e == '\\') {
          out->push_back(e);
          pos_ += 2;
          continue;
        }
        // Only control characters are written as \u00xx (lowercase hex, below 0x20).
        if (e != 'u' || pos_ + 6 > s_.size() || s_.compare(pos_ + 2, 2, "00") != 0) return false;
        int hi = LowerHex(s_[pos_ + 4]);
        int lo = LowerHex(s_[pos_ + 5]);
        if (hi < 0 || hi > 1 || lo < 0) return false;
        out->push_back(static_cast<char>(hi * 16 + lo));
        pos_ += 6;
        continue;
      }
      if (c < 0x20) return false;
      size_t n = Utf8SequenceLength(s_, pos_);
      if (n == 0) return false;
      out->append(s_, pos_, n);
      pos_ += n;
    }
    return false;  // unterminated
  }

  // An int as std::to_string writes it: no '+', no leading zeros, no "-0", in range.
  bool Int(int* out) {
    size_t start = pos_;
    bool negative = pos_ < s_.size() && s_[pos_] == '-';
    if (negative) ++pos_;
    size_t digits = pos_;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    size_t n = pos_ - digits;
    if (n == 0 || n > 10 || (n > 1 && s_[digits] == '0') || (negative && s_[digits] == '0')) {
      pos_ = start;
      return false;
    }
    int64_t v = 0;
    for (size_t i = digits; i < pos_; ++i) v = v * 10 + (s_[i] - '0');
    if (negative) v = -v;
    if (v < INT_MIN || v > INT_MAX) {
      pos_ = start;
      return false;
    }
    *out = static_cast<int>(v);
    return true;
  }

 private:
  static int LowerHex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  }

  const std::string& s_;
  size_t pos_ = 0;
};

}  // namespace

std::string CanonicalPayload(const CertifiedFacts& facts) {
  return facts.version == 1 ? Encode(facts, kFieldsV1) : Encode(facts, kFieldsV2);
}

std::string NameCommitment(const std::string& salt, const std::string& nfc_name) {
  return Base64UrlEncode(Sha256Raw(salt + nfc_name));
}

StatusOr<CertifiedFacts> ParsePayload(const std::string& payload) {
  auto bad = [&](const std::string& what, size_t pos) {
    return Status::InvalidArgument("payload", "not a canonical certificate payload (" + what +
                                                  " at byte " + std::to_string(pos) + ")");
  };
  auto parse = [&](const auto& fields, CertifiedFacts& facts) -> Status {
    StrictReader r(payload);
    if (!r.Literal("{")) return bad("expected '{'", r.pos());
    bool first = true;
    for (const Field& f : fields) {
      if (!first && !r.Literal(",")) return bad("expected ','", r.pos());
      first = false;
      std::string key = std::string("\"") + f.name + "\":";
      if (!r.Literal(key)) return bad("expected the key \"" + std::string(f.name) + "\"", r.pos());
      bool ok = f.kind == Kind::kString ? r.String(&(facts.*f.str)) : r.Int(&(facts.*f.num));
      if (!ok) return bad(std::string("bad value for \"") + f.name + "\"", r.pos());
    }
    if (!r.Literal("}")) return bad("expected '}'", r.pos());
    if (!r.AtEnd()) return bad("trailing bytes", r.pos());
    return Status::Ok();
  };
  CertifiedFacts facts;
  if (payload.starts_with("{\"v\":")) {
    ECD_RETURN_IF_ERROR(parse(kFieldsV2, facts));
    if (facts.version != 2) return bad("unknown version " + std::to_string(facts.version), 5);
  } else {
    facts.version = 1;
    ECD_RETURN_IF_ERROR(parse(kFieldsV1, facts));
  }
  return facts;
}

}  // namespace ecd::certificates
