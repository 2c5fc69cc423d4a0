#include "common/time.hpp"

#include <google/protobuf/timestamp.pb.h>
#include <gtest/gtest.h>

namespace ecd {
namespace {

TEST(Micros, BothWaysAlsoBeforeTheEpoch) {
  google::protobuf::Timestamp t;
  for (int64_t micros : {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{-1'500'000},
                         int64_t{1'594'281'600'000'001}, int64_t{-62'135'596'800'000'000}}) {
    SetMicros(micros, &t);
    EXPECT_GE(t.nanos(), 0) << micros;
    EXPECT_LT(t.nanos(), 1'000'000'000) << micros;
    EXPECT_EQ(Micros(t), micros);
  }
  t.set_seconds(-2);
  t.set_nanos(999'999'999);  // -1.000000001 s: floors to -1000001 µs
  EXPECT_EQ(Micros(t), -1'000'001);
}

TEST(FormatRfc3339, WholeSecondsFractionsAndOldDates) {
  EXPECT_EQ(FormatRfc3339(1594281600LL * 1'000'000), "2020-07-09T08:00:00Z");
  EXPECT_EQ(FormatRfc3339(1594281600LL * 1'000'000 + 500'000), "2020-07-09T08:00:00.5Z");
  EXPECT_EQ(FormatRfc3339(-1), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(FormatRfc3339(951782400LL * 1'000'000), "2000-02-29T00:00:00Z");
}

TEST(CivilDays, RoundTripOverFourCenturies) {
  for (int64_t days = -146097; days <= 146097; days += 7) {
    const CivilDate d = CivilFromDays(days);
    EXPECT_EQ(DaysFromCivil(d.year, d.month, d.day), days);
  }
  EXPECT_EQ(DaysFromCivil(2020, 7, 9), 18452);
}

TEST(CivilToUtcMicros, RejectsImpossibleDates) {
  EXPECT_TRUE(CivilToUtcMicros({2020, 2, 29, 0, 0, 0}).has_value());
  EXPECT_FALSE(CivilToUtcMicros({2021, 2, 29, 0, 0, 0}).has_value());
  EXPECT_FALSE(CivilToUtcMicros({2020, 13, 1, 0, 0, 0}).has_value());
  EXPECT_FALSE(CivilToUtcMicros({2020, 1, 1, 24, 0, 0}).has_value());
  EXPECT_FALSE(CivilToUtcMicros({2020, 1, 1, 0, 60, 0}).has_value());
}

TEST(TimeZone, CanonicalNamesOnly) {
  for (const char* name : {"Africa/Lagos", "America/Argentina/Buenos_Aires", "Asia/Kolkata",
                           "Pacific/Chatham", "Asia/Kathmandu", "UTC", "Etc/GMT-14"}) {
    auto zone = TimeZone::Find(name);
    ASSERT_TRUE(zone.has_value()) << name;
  }
  EXPECT_EQ(TimeZone::Find("UTC")->name(), "UTC");
  EXPECT_EQ(TimeZone::Find("Etc/UTC")->name(), "UTC");
  for (const char* name : {"posixrules", "Factory", "right/UTC", "posix/Europe/Paris", "localtime",
                           "../../etc/passwd", "/etc/localtime", "Africa/", "Africa//Lagos",
                           "Mars/Olympus_Mons", "", "Africa/Lagos\n", "zone.tab", "tzdata.zi"}) {
    EXPECT_FALSE(TimeZone::Find(name).has_value()) << name;
  }
}

TEST(TimeZone, OlderNamesGiveTheirCanonicalZone) {
  // Browsers still report some of tzdata's backward names.
  auto calcutta = TimeZone::Find("Asia/Calcutta");
  ASSERT_TRUE(calcutta.has_value());
  EXPECT_EQ(calcutta->name(), "Asia/Kolkata");
}

TEST(TimeZone, LocalTimesToUtcWithHalfHoursAndDaylightSaving) {
  // 2020-07-09 13:30 in Kolkata (+05:30) is 08:00 UTC.
  auto kolkata = TimeZone::Find("Asia/Kolkata");
  EXPECT_EQ(*kolkata->ToUtcMicros({2020, 7, 9, 13, 30, 0}), 1594281600LL * 1'000'000);
  // Summer in Paris (+02:00).
  auto paris = TimeZone::Find("Europe/Paris");
  EXPECT_EQ(*paris->ToUtcMicros({2020, 7, 9, 10, 0, 0}), 1594281600LL * 1'000'000);
  EXPECT_EQ(paris->OffsetSeconds(1594281600LL * 1'000'000), 7200);
  // 2020-03-29 02:30 does not exist in Paris (02:00 -> 03:00): read as after the gap, 01:30 UTC.
  EXPECT_EQ(FormatRfc3339(*paris->ToUtcMicros({2020, 3, 29, 2, 30, 0})), "2020-03-29T01:30:00Z");
  // 2020-10-25 02:30 happens twice: the earlier, 00:30 UTC.
  EXPECT_EQ(FormatRfc3339(*paris->ToUtcMicros({2020, 10, 25, 2, 30, 0})), "2020-10-25T00:30:00Z");
  EXPECT_FALSE(paris->ToUtcMicros({2020, 2, 30, 0, 0, 0}).has_value());
}

TEST(DateInWords, ThreeLanguagesWithAndWithoutTheWeekday) {
  EXPECT_EQ(DateInWords(2020, 7, 9, "en"), "9 July 2020");
  EXPECT_EQ(DateInWords(2020, 7, 1, "fr"), "1er juillet 2020");
  EXPECT_EQ(DateInWords(2020, 7, 9, "es"), "9 de julio de 2020");
  EXPECT_EQ(DateInWords(2020, 7, 9, "ar"), "9 July 2020");  // another language: English
  EXPECT_EQ(DateInWords(2020, 7, 9, "en", true), "Thursday 9 July 2020");
  EXPECT_EQ(DateInWords(2026, 12, 1, "fr", true), "mardi 1er décembre 2026");
  EXPECT_EQ(DateInWords(2024, 2, 29, "es", true), "jueves 29 de febrero de 2024");
  EXPECT_EQ(DateInWords(1969, 12, 31, "en", true), "Wednesday 31 December 1969");
  EXPECT_EQ(DateInWords(1970, 1, 1, "en", true), "Thursday 1 January 1970");
}

}  // namespace
}  // namespace ecd
