#include "common/page_token.hpp"

#include <gtest/gtest.h>

#include "common/paging.hpp"

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
TEST(ListPaging, BoundToItsListAndFilters) {
  PageTokens tokens("shared-secret");
  ListPaging registrations(tokens, "RegistrationService/ListRegistrations", "event=E1");
  const std::string id = "5eed0000-0000-4000-8000-000000000001";
  const std::string token = registrations.Seal(-1234, id);
  auto opened = registrations.Open(token);
  ASSERT_TRUE(opened.ok());
  ASSERT_TRUE(opened->has_value());
  EXPECT_EQ((*opened)->micros, -1234);
  EXPECT_EQ((*opened)->id, id);
  EXPECT_FALSE(registrations.Open("").value().has_value());
  // Another list with the same filters, or the same list with other filters: refused.
  ListPaging certificates(tokens, "CertificateService/ListCertificates", "event=E1");
  ListPaging other_event(tokens, "RegistrationService/ListRegistrations", "event=E2");
  EXPECT_EQ(certificates.Open(token).status().field(), "page_token");
  EXPECT_EQ(other_event.Open(token).status().field(), "page_token");
  // A cursor that is not "micros:uuid" is malformed, never an exception.
  for (const char* bad : {"12:not-a-uuid", "x:5eed0000-0000-4000-8000-000000000001",
                          "99999999999999999999:5eed0000-0000-4000-8000-000000000001", "12"}) {
    const std::string sealed =
        tokens.Seal(std::string("RegistrationService/ListRegistrations") + '\0' + "event=E1", bad);
    EXPECT_EQ(registrations.Open(sealed).status().field(), "page_token") << bad;
  }
}

}  // namespace ecd
