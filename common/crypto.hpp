#pragma once
// Small wrappers over OpenSSL used across services.
#include <string>
#include <string_view>

namespace ecd {

// Lowercase hexadecimal, two digits per byte.
std::string HexEncode(std::string_view bytes);
std::string Sha256Hex(std::string_view data);
// The raw 32 bytes.
std::string Sha256Raw(std::string_view data);
std::string Sha1Hex(std::string_view data);
// Raw 32-byte HMAC-SHA256.
std::string HmacSha256(std::string_view key, std::string_view data);
std::string Base64UrlEncode(std::string_view data);
// False on characters outside the URL-safe alphabet.
bool Base64UrlDecode(std::string_view text, std::string* out);
// Equal-time comparison for secrets.
bool ConstantTimeEquals(std::string_view a, std::string_view b);
std::string RandomBytes(size_t n);
// A random version-4 UUID, lowercase.
std::string NewUuid();
bool IsUuid(std::string_view s);

}  // namespace ecd
