#pragma once
// Bearer-token authentication and role-based authorisation. Tokens are configured only as
// SHA-256 hashes ("role:hex,role:hex"); a presented token is hashed and looked up. Each service
// declares a RoleTable: for every method, the roles that may call it. A method missing from the
// table is refused to everyone (deny by default).
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "common/status.hpp"
#include "common/trace.hpp"

namespace ecd {

enum class Role { kAdmin, kFrontend, kIntegration, kService };

const char* RoleName(Role role);
std::optional<Role> ParseRole(std::string_view name);

// Who is calling, as the handlers see it.
struct CallContext {
  Role role = Role::kAdmin;
  std::string request_id;
  // The W3C trace this call belongs to: the caller's trace (from its traceparent), this call's
  // own span.
  TraceContext trace;
  // Admin and service see drafts and join URLs.
  bool privileged() const { return role == Role::kAdmin || role == Role::kService; }
};

class TokenRegistry {
 public:
  // "role:sha256hex,role:sha256hex"; empty entries are ignored. INVALID_ARGUMENT-like errors are
  // returned for unknown roles or malformed hashes (the caller reports them as configuration).
  static StatusOr<TokenRegistry> Parse(std::string_view spec);
  void Add(const std::string& sha256_hex, Role role) { by_hash_[sha256_hex] = role; }
  std::optional<Role> Lookup(std::string_view token) const;
  size_t size() const { return by_hash_.size(); }

 private:
  std::map<std::string, Role> by_hash_;
};

class RoleTable {
 public:
  RoleTable(std::initializer_list<std::pair<std::string_view, std::initializer_list<Role>>> rows);
  bool Allows(std::string_view method, Role role) const;
  bool Knows(std::string_view method) const { return rows_.count(std::string(method)) != 0; }
  const std::map<std::string, std::set<Role>>& rows() const { return rows_; }

 private:
  std::map<std::string, std::set<Role>> rows_;
};

class Authenticator {
 public:
  Authenticator(TokenRegistry tokens, RoleTable roles)
      : tokens_(std::move(tokens)), roles_(std::move(roles)) {}
  // `authorization`: the metadata value ("Bearer <token>"), or nullopt when absent.
  // UNAUTHENTICATED for a missing, malformed or unknown token; PERMISSION_DENIED for a known
  // token whose role may not call `method` (short name, like "CreateEvent").
  StatusOr<Role> Authorise(std::optional<std::string_view> authorization,
                           std::string_view method) const;
  const RoleTable& roles() const { return roles_; }

 private:
  TokenRegistry tokens_;
  RoleTable roles_;
};

}  // namespace ecd
