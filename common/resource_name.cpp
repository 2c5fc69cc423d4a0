#include "common/resource_name.hpp"

#include "common/crypto.hpp"

namespace ecd {

StatusOr<std::string> ParseResourceName(std::string_view name, std::string_view collection,
                                        std::string_view field) {
  const std::string prefix = std::string(collection) + "/";
  if (name.empty()) return Status::InvalidArgument(std::string(field), "must not be empty");
  if (name.substr(0, prefix.size()) != prefix || !IsUuid(name.substr(prefix.size()))) {
    return Status::InvalidArgument(std::string(field),
                                   "must look like " + prefix + "{uuid}, lowercase");
  }
  return std::string(name.substr(prefix.size()));
}

std::string IdOf(std::string_view name) {
  const auto slash = name.rfind('/');
  return std::string(slash == std::string_view::npos ? name : name.substr(slash + 1));
}

}  // namespace ecd
