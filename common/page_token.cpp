#include "common/page_token.hpp"

#include "common/crypto.hpp"

namespace ecd {

PageTokens::PageTokens(std::string secret) : secret_(std::move(secret)) {
  if (secret_.empty()) secret_ = RandomBytes(32);
}

std::string PageTokens::Seal(std::string_view filter_key, std::string_view cursor) const {
  std::string payload = Sha256Hex(filter_key).substr(0, 16) + "|" + std::string(cursor);
  return Base64UrlEncode(payload) + "." + Base64UrlEncode(HmacSha256(secret_, payload));
}

StatusOr<std::string> PageTokens::Open(std::string_view token, std::string_view filter_key) const {
  auto bad = [](const char* why) { return Status::InvalidArgument("page_token", why); };
  if (token.size() > 2048) return bad("too long");
  auto dot = token.find('.');
  if (dot == std::string_view::npos) return bad("malformed");
  std::string payload, mac;
  if (!Base64UrlDecode(token.substr(0, dot), &payload) ||
      !Base64UrlDecode(token.substr(dot + 1), &mac)) {
    return bad("malformed");
  }
  if (!ConstantTimeEquals(mac, HmacSha256(secret_, payload))) return bad("not a token we issued");
  auto bar = payload.find('|');
  if (bar == std::string::npos || payload.substr(0, bar) != Sha256Hex(filter_key).substr(0, 16)) {
    return bad("issued for a request with other filters");
  }
  return payload.substr(bar + 1);
}

StatusOr<int> CheckPageSize(int page_size, int default_size, int max_size) {
  if (page_size < 0) return Status::InvalidArgument("page_size", "must not be negative");
  if (page_size > max_size) {
    return Status::InvalidArgument("page_size", "must be at most " + std::to_string(max_size));
  }
  return page_size == 0 ? default_size : page_size;
}

}  // namespace ecd
