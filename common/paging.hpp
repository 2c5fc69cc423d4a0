#pragma once
// Keyset paging over (time, id), the same way in every list: fetch one row more than the page,
// and when it is there, seal the last row's (micros, id) into the next page token. A token is
// bound to its list and to the request's filters: another list, or other filters, refuse it
// (INVALID_ARGUMENT naming page_token), even between services sharing the secret.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/page_token.hpp"
#include "common/status.hpp"

namespace ecd {

struct PageCursor {
  int64_t micros = 0;
  std::string id;  // a UUID
};

class ListPaging {
 public:
  // `list`: the method, like "RegistrationService/ListRegistrations"; `filters`: the request's
  // filters, serialised (the request without page_size and page_token, for example).
  ListPaging(const PageTokens& tokens, std::string_view list, std::string_view filters);
  // Where the page starts: nullopt for the first page.
  StatusOr<std::optional<PageCursor>> Open(std::string_view page_token) const;
  std::string Seal(int64_t micros, std::string_view id) const;

 private:
  const PageTokens& tokens_;
  std::string key_;
};

}  // namespace ecd
