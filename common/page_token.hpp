#pragma once
// Opaque, tamper-evident page tokens: base64url(payload) "." base64url(HMAC-SHA256(payload)).
// The payload binds the cursor to the request's filters (a hash of them), so a token cannot be
// reused with other filters (AIP-158). The secret is shared by all replicas
// (ECD_PAGE_TOKEN_SECRET).
#include <string>
#include <string_view>

#include "common/status.hpp"

namespace ecd {

class PageTokens {
 public:
  explicit PageTokens(std::string secret);
  // `filter_key`: the request's filters, serialised; `cursor`: where the next page starts.
  std::string Seal(std::string_view filter_key, std::string_view cursor) const;
  // The cursor, or INVALID_ARGUMENT naming `page_token` for a malformed, tampered or mismatched
  // token.
  StatusOr<std::string> Open(std::string_view token, std::string_view filter_key) const;

 private:
  std::string secret_;
};

// page_size: 0 means `default_size`; over `max_size` or negative is INVALID_ARGUMENT.
StatusOr<int> CheckPageSize(int page_size, int default_size = 25, int max_size = 100);

}  // namespace ecd
