#include "common/page_token.hpp"

#include <gtest/gtest.h>

namespace ecd {
namespace {

TEST(PageTokens, RoundTripIsOpaque) {
  PageTokens tokens("0123456789abcdef-secret");
  std::string t = tokens.Seal("filters", "1593000000000000:abc");
  EXPECT_EQ(t.find("1593000000000000"), std::string::npos) << "the cursor is not in clear";
  auto cursor = tokens.Open(t, "filters");
  ASSERT_TRUE(cursor.ok()) << cursor.status().ToString();
  EXPECT_EQ(*cursor, "1593000000000000:abc");
}

TEST(PageTokens, TamperingIsDetected) {
  PageTokens tokens("0123456789abcdef-secret");
  std::string t = tokens.Seal("filters", "cursor");
  for (size_t i = 0; i < t.size(); ++i) {
    std::string bad = t;
    bad[i] = bad[i] == 'A' ? 'B' : 'A';
    auto r = tokens.Open(bad, "filters");
    EXPECT_FALSE(r.ok()) << "position " << i;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
      EXPECT_EQ(r.status().field(), "page_token");
    }
  }
}

TEST(PageTokens, OtherSecretOrFiltersOrGarbageRejected) {
  PageTokens a("0123456789abcdef-secret"), b("another-secret-0123456");
  std::string t = a.Seal("filters", "cursor");
  EXPECT_FALSE(b.Open(t, "filters").ok());
  EXPECT_FALSE(a.Open(t, "other filters").ok());
  EXPECT_FALSE(a.Open("not a token", "filters").ok());
  EXPECT_FALSE(a.Open("", "filters").ok());
  EXPECT_FALSE(a.Open(std::string(5000, 'a'), "filters").ok());
}

TEST(PageSize, DefaultMaximumAndNegative) {
  EXPECT_EQ(*CheckPageSize(0), 25);
  EXPECT_EQ(*CheckPageSize(100), 100);
  auto over = CheckPageSize(101);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().field(), "page_size");
  EXPECT_FALSE(CheckPageSize(-1).ok());
}

}  // namespace
}  // namespace ecd
