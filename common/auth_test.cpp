#include "common/auth.hpp"

#include <gtest/gtest.h>

#include "common/crypto.hpp"

namespace ecd {
namespace {

const RoleTable kTable = {
    {"Read", {Role::kAdmin, Role::kFrontend}},
    {"Write", {Role::kAdmin}},
};

Authenticator Make() {
  auto reg = TokenRegistry::Parse("admin:" + Sha256Hex("admin-token") +
                                  ",frontend:" + Sha256Hex("front-token") + ",");
  EXPECT_TRUE(reg.ok()) << reg.status().ToString();
  return Authenticator(std::move(*reg), kTable);
}

TEST(TokenRegistry, ParsesHashesAndRejectsBadEntries) {
  auto ok = TokenRegistry::Parse("service:" + Sha256Hex("s"));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->Lookup("s"), Role::kService);
  EXPECT_FALSE(ok->Lookup("S").has_value());
  EXPECT_FALSE(TokenRegistry::Parse("root:" + Sha256Hex("s")).ok());
  EXPECT_FALSE(TokenRegistry::Parse("admin:abc").ok());
  EXPECT_FALSE(TokenRegistry::Parse("admin").ok());
  // The token in clear is not accepted in place of its hash.
  EXPECT_FALSE(TokenRegistry::Parse("admin:plain-token-not-a-hash").ok());
  auto upper = TokenRegistry::Parse("admin:" + std::string(64, 'A'));
  EXPECT_TRUE(upper.ok());
}

TEST(Authenticator, MissingOrUnknownTokenIsUnauthenticated) {
  auto auth = Make();
  EXPECT_EQ(auth.Authorise(std::nullopt, "Read").status().code(), Code::kUnauthenticated);
  EXPECT_EQ(auth.Authorise("Bearer nope", "Read").status().code(), Code::kUnauthenticated);
  EXPECT_EQ(auth.Authorise("Basic abc", "Read").status().code(), Code::kUnauthenticated);
  EXPECT_EQ(auth.Authorise("Bearer ", "Read").status().code(), Code::kUnauthenticated);
}

TEST(Authenticator, RoleTableDecides) {
  auto auth = Make();
  auto admin = auth.Authorise("Bearer admin-token", "Write");
  ASSERT_TRUE(admin.ok());
  EXPECT_EQ(*admin, Role::kAdmin);
  EXPECT_TRUE(auth.Authorise("Bearer front-token", "Read").ok());
  auto denied = auth.Authorise("Bearer front-token", "Write");
  EXPECT_EQ(denied.status().code(), Code::kPermissionDenied);
  EXPECT_EQ(denied.status().reason(), "PERMISSION_DENIED");
  // A method nobody listed is refused to everyone, admin included.
  EXPECT_EQ(auth.Authorise("Bearer admin-token", "Unlisted").status().code(),
            Code::kPermissionDenied);
}

TEST(RoleNames, RoundTrip) {
  for (Role r : {Role::kAdmin, Role::kFrontend, Role::kIntegration, Role::kService}) {
    EXPECT_EQ(ParseRole(RoleName(r)), r);
  }
  EXPECT_FALSE(ParseRole("root").has_value());
}

}  // namespace
}  // namespace ecd
