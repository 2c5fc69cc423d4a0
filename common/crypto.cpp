#include "common/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <stdexcept>

namespace ecd {
namespace {

std::string Digest(const EVP_MD* md, std::string_view data) {
  unsigned char buf[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), buf, &len, md, nullptr) != 1) {
    throw std::runtime_error("EVP_Digest failed");
  }
  return std::string(reinterpret_cast<char*>(buf), len);
}

std::string DigestHex(const EVP_MD* md, std::string_view data) {
  const std::string raw = Digest(md, data);
  return HexEncode(raw);
}

// SHA-256 fetched from the provider once: EVP_sha256() makes OpenSSL 3 look the implementation up
// again on every digest and every HMAC (a lock and a hash-table search each time).
const EVP_MD* Sha256() {
  static const EVP_MD* md = [] {
    const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched != nullptr ? fetched : EVP_sha256();
  }();
  return md;
}

}  // namespace

std::string HexEncode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kDigits[b >> 4];
    out[2 * i + 1] = kDigits[b & 15];
  }
  return out;
}

std::string Sha256Hex(std::string_view data) { return DigestHex(Sha256(), data); }
std::string Sha256Raw(std::string_view data) { return Digest(Sha256(), data); }
std::string Sha1Hex(std::string_view data) { return DigestHex(EVP_sha1(), data); }

// RFC 2104 over the SHA-256 fetched once, with one digest context per thread: OpenSSL 3's HMAC()
// fetches the HMAC implementation and builds a MAC context at every call (3% of a Register call).
// What holds the key (its block, the pads, the inner hash) is wiped before returning.
std::string HmacSha256(std::string_view key, std::string_view data) {
  constexpr size_t kBlock = 64;
  thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                                           &EVP_MD_CTX_free);
  unsigned char block_key[kBlock] = {0};
  unsigned char pad[kBlock];
  unsigned char inner[EVP_MAX_MD_SIZE], out[EVP_MAX_MD_SIZE];
  unsigned int key_len = 0, inner_len = 0, out_len = 0;
  bool ok = ctx != nullptr;
  if (ok && key.size() > kBlock) {  // a long key is hashed first, straight into its block
    ok = EVP_DigestInit_ex(ctx.get(), Sha256(), nullptr) == 1 &&
         EVP_DigestUpdate(ctx.get(), key.data(), key.size()) == 1 &&
         EVP_DigestFinal_ex(ctx.get(), block_key, &key_len) == 1;
  } else if (!key.empty()) {
    std::memcpy(block_key, key.data(), key.size());
  }
  for (size_t i = 0; i < kBlock; ++i) pad[i] = block_key[i] ^ 0x36;
  ok = ok && EVP_DigestInit_ex(ctx.get(), Sha256(), nullptr) == 1 &&
       EVP_DigestUpdate(ctx.get(), pad, kBlock) == 1 &&
       EVP_DigestUpdate(ctx.get(), data.data(), data.size()) == 1 &&
       EVP_DigestFinal_ex(ctx.get(), inner, &inner_len) == 1;
  for (size_t i = 0; i < kBlock; ++i) pad[i] = block_key[i] ^ 0x5c;
  ok = ok && EVP_DigestInit_ex(ctx.get(), Sha256(), nullptr) == 1 &&
       EVP_DigestUpdate(ctx.get(), pad, kBlock) == 1 &&
       EVP_DigestUpdate(ctx.get(), inner, inner_len) == 1 &&
       EVP_DigestFinal_ex(ctx.get(), out, &out_len) == 1;
  OPENSSL_cleanse(block_key, sizeof block_key);
  OPENSSL_cleanse(pad, sizeof pad);
  OPENSSL_cleanse(inner, sizeof inner);
  if (!ok) {
    if (ctx != nullptr) EVP_MD_CTX_reset(ctx.get());  // it may hold a state keyed half-way
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  return std::string(reinterpret_cast<char*>(out), out_len);
}

std::string Base64UrlEncode(std::string_view data) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<unsigned char>(data[k]); };
  for (; i + 2 < data.size(); i += 3) {
    unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == data.size()) {
    unsigned v = byte(i) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (i + 2 == data.size()) {
    unsigned v = (byte(i) << 16) | (byte(i + 1) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

bool Base64UrlDecode(std::string_view text, std::string* out) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
  };
  if (text.size() % 4 == 1) return false;
  out->clear();
  unsigned acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = value(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return true;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string RandomBytes(size_t n) {
  // OpenSSL's generator, drawn 4 KiB at a time per thread: each RAND_bytes call has a fixed cost
  // (locks, the provider's look-up) that dominated the 16 bytes of an id.
  constexpr size_t kChunk = 4096;
  thread_local unsigned char pool[kChunk];
  thread_local size_t left = 0;
  thread_local pid_t owner = 0;
  if (const pid_t pid = getpid(); pid != owner) {  // a forked child draws its own
    owner = pid;
    left = 0;
  }
  std::string out(n, '\0');
  if (n > kChunk / 4) {
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
      throw std::runtime_error("RAND_bytes failed");
    }
    return out;
  }
  if (left < n) {
    if (RAND_bytes(pool, static_cast<int>(kChunk)) != 1)
      throw std::runtime_error("RAND_bytes failed");
    left = kChunk;
  }
  std::memcpy(out.data(), pool + (kChunk - left), n);
  OPENSSL_cleanse(pool + (kChunk - left), n);  // served bytes do not stay behind
  left -= n;
  return out;
}

std::string NewUuid() {
  std::string b = RandomBytes(16);
  b[6] = static_cast<char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);
  std::string h = HexEncode(b);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20, 12);
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

}  // namespace ecd
