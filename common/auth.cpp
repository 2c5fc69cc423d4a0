#include "common/auth.hpp"

#include "common/crypto.hpp"

namespace ecd {

const char* RoleName(Role role) {
  switch (role) {
    case Role::kAdmin:
      return "admin";
    case Role::kFrontend:
      return "frontend";
    case Role::kIntegration:
      return "integration";
    case Role::kService:
      return "service";
  }
  return "?";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (Role r : {Role::kAdmin, Role::kFrontend, Role::kIntegration, Role::kService}) {
    if (name == RoleName(r)) return r;
  }
  return std::nullopt;
}

StatusOr<TokenRegistry> TokenRegistry::Parse(std::string_view spec) {
  TokenRegistry reg;
  size_t pos = 0;
  while (pos <= spec.size()) {
    size_t comma = spec.find(',', pos);
    if (comma == std::string_view::npos) comma = spec.size();
    std::string_view entry = spec.substr(pos, comma - pos);
    pos = comma + 1;
    if (entry.empty()) continue;
    auto colon = entry.find(':');
    if (colon == std::string_view::npos) {
      return Status::InvalidArgument("ECD_TOKENS", "entry must be role:sha256hex");
    }
    auto role = ParseRole(entry.substr(0, colon));
    if (!role) {
      return Status::InvalidArgument("ECD_TOKENS", "unknown role '" +
                                                       std::string(entry.substr(0, colon)) +
                                                       "' (admin, frontend, integration, service)");
    }
    std::string hash(entry.substr(colon + 1));
    for (char& c : hash) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (hash.size() != 64 || hash.find_first_not_of("0123456789abcdef") != std::string::npos) {
      return Status::InvalidArgument("ECD_TOKENS",
                                     "the hash must be 64 hex digits (SHA-256 of the token)");
    }
    reg.Add(hash, *role);
  }
  return reg;
}

std::optional<Role> TokenRegistry::Lookup(std::string_view token) const {
  auto it = by_hash_.find(Sha256Hex(token));
  if (it == by_hash_.end()) return std::nullopt;
  return it->second;
}

RoleTable::RoleTable(
    std::initializer_list<std::pair<std::string_view, std::initializer_list<Role>>> rows) {
  for (const auto& [method, roles] : rows) rows_[std::string(method)] = std::set<Role>(roles);
}

bool RoleTable::Allows(std::string_view method, Role role) const {
  auto it = rows_.find(std::string(method));
  return it != rows_.end() && it->second.count(role) != 0;
}

StatusOr<Role> Authenticator::Authorise(std::optional<std::string_view> authorization,
                                        std::string_view method) const {
  if (!authorization) return Status::Unauthenticated("missing authorization metadata");
  constexpr std::string_view kBearer = "Bearer ";
  std::string_view v = *authorization;
  if (v.size() <= kBearer.size() || v.size() > 4096 ||
      !(v.substr(0, kBearer.size()) == kBearer || v.substr(0, kBearer.size()) == "bearer ")) {
    return Status::Unauthenticated("authorization must be 'Bearer <token>'");
  }
  auto role = tokens_.Lookup(v.substr(kBearer.size()));
  if (!role) return Status::Unauthenticated("unknown token");
  if (!roles_.Allows(method, *role)) {
    return Status::PermissionDenied(std::string("role ") + RoleName(*role) + " may not call " +
                                    std::string(method));
  }
  return *role;
}

}  // namespace ecd
