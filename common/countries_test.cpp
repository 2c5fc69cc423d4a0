#include "common/countries.hpp"

#include <gtest/gtest.h>

#include <set>

namespace ecd {
namespace {

TEST(Countries, IsoList) {
  EXPECT_EQ(IsoCountryCount(), 249u);
  for (const char* c : {"FR", "NG", "JP", "BR", "SS", "TL", "XK" + 0}) {
    if (std::string(c) == "XK") {
      EXPECT_FALSE(IsIsoCountry(c)) << "Kosovo has no ISO 3166-1 code";
    } else {
      EXPECT_TRUE(IsIsoCountry(c)) << c;
    }
  }
  EXPECT_FALSE(IsIsoCountry("fr"));
  EXPECT_FALSE(IsIsoCountry("ZZ"));
  EXPECT_FALSE(IsIsoCountry("FRA"));
  EXPECT_FALSE(IsIsoCountry(""));
}

TEST(Countries, Languages) {
  for (const char* l : {"en", "fr", "es", "ar", "zh", "ru", "pt"}) EXPECT_TRUE(IsLanguageCode(l));
  EXPECT_FALSE(IsLanguageCode("EN"));
  EXPECT_FALSE(IsLanguageCode("eng"));
  EXPECT_FALSE(IsLanguageCode("xx"));
}

TEST(Countries, UnGroups) {
  auto africa = UnGroupMembers(UnGroup::kAfrican);
  auto asia = UnGroupMembers(UnGroup::kAsiaPacific);
  auto grulac = UnGroupMembers(UnGroup::kLatinAmericanCaribbean);
  EXPECT_EQ(africa.size(), 54u);
  EXPECT_EQ(asia.size(), 54u);
  EXPECT_EQ(grulac.size(), 33u);
  std::set<std::string> all;
  for (const auto* g : {&africa, &asia, &grulac}) {
    for (const auto& c : *g) {
      EXPECT_TRUE(IsIsoCountry(c)) << c;
      EXPECT_TRUE(all.insert(c).second) << c << " is in two groups";
    }
  }
  auto has = [](const std::vector<std::string>& g, const char* c) {
    return std::find(g.begin(), g.end(), c) != g.end();
  };
  EXPECT_TRUE(has(africa, "NG"));
  EXPECT_TRUE(has(africa, "SS"));
  EXPECT_TRUE(has(asia, "JP"));
  EXPECT_TRUE(has(asia, "KI"));
  EXPECT_FALSE(has(asia, "TR")) << "Türkiye votes with WEOG";
  EXPECT_FALSE(has(asia, "PS")) << "Palestine is an observer";
  EXPECT_TRUE(has(grulac, "BR"));
  EXPECT_TRUE(has(grulac, "TT"));
  EXPECT_FALSE(has(grulac, "US"));
}

}  // namespace
}  // namespace ecd
