#include "common/paging.hpp"

#include <charconv>

#include "common/crypto.hpp"

namespace ecd {

ListPaging::ListPaging(const PageTokens& tokens, std::string_view list, std::string_view filters)
    : tokens_(tokens) {
  key_.append(list);
  key_.push_back('\0');
  key_.append(filters);
}

StatusOr<std::optional<PageCursor>> ListPaging::Open(std::string_view page_token) const {
  if (page_token.empty()) return std::optional<PageCursor>();
  ECD_ASSIGN_OR_RETURN(auto cursor, tokens_.Open(page_token, key_));
  const size_t colon = cursor.find(':');
  PageCursor out;
  if (colon == std::string::npos) return Status::InvalidArgument("page_token", "malformed");
  const char* begin = cursor.data();
  const auto [end, ec] = std::from_chars(begin, begin + colon, out.micros);
  out.id = cursor.substr(colon + 1);
  if (ec != std::errc() || end != begin + colon || !IsUuid(out.id)) {
    return Status::InvalidArgument("page_token", "malformed");
  }
  return std::optional<PageCursor>(std::move(out));
}

std::string ListPaging::Seal(int64_t micros, std::string_view id) const {
  return tokens_.Seal(key_, std::to_string(micros) + ":" + std::string(id));
}

}  // namespace ecd
