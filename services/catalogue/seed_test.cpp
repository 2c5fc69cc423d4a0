#include "services/catalogue/seed.hpp"

#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

#include "services/catalogue/validation.hpp"

namespace ecd::catalogue {
namespace {

using google::protobuf::util::TimeUtil;

TEST(Seed, FiveWebinarsOfTheSourceDocument) {
  SeedData d = BuildSeedData();
  EXPECT_TRUE(ValidateSeries(d.series).ok());
  EXPECT_EQ(d.series.topics_size(), 4);
  struct Want {
    const char* start;
    const char* end;
    v1::Region region;
    const char* language;
    size_t countries;
  };
  const Want want[] = {
      {"2020-06-24T07:00:00Z", "2020-06-24T08:45:00Z", v1::REGION_ASIA_PACIFIC, "en", 54},
      {"2020-07-07T08:00:00Z", "2020-07-07T09:45:00Z", v1::REGION_AFRICA, "en", 54},
      {"2020-07-09T08:00:00Z", "2020-07-09T09:45:00Z", v1::REGION_AFRICA, "fr", 54},
      {"2020-07-20T15:00:00Z", "2020-07-20T16:45:00Z", v1::REGION_LATIN_AMERICA_CARIBBEAN, "en",
       33},
      {"2020-07-22T15:00:00Z", "2020-07-22T16:45:00Z", v1::REGION_LATIN_AMERICA_CARIBBEAN, "es",
       33},
  };
  ASSERT_EQ(d.events.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    const v1::Event& e = d.events[i].second;
    SCOPED_TRACE(e.title());
    EXPECT_TRUE(ValidateEvent(e).ok()) << ValidateEvent(e).ToString();
    EXPECT_EQ(TimeUtil::ToString(e.start_time()), want[i].start);
    EXPECT_EQ(TimeUtil::ToString(e.end_time()), want[i].end);
    EXPECT_EQ(e.region(), want[i].region);
    EXPECT_EQ(e.language_code(), want[i].language);
    EXPECT_EQ(static_cast<size_t>(e.invited_countries_size()), want[i].countries);
    EXPECT_EQ(e.duration_minutes(), 100);
    EXPECT_EQ(e.participants_per_country(), 4);
    EXPECT_EQ(e.platform(), "Zoom");
    EXPECT_EQ(e.status(), v1::EVENT_STATUS_PUBLISHED);
    EXPECT_EQ(e.topics_size(), 4);
    int minutes = 0;
    for (const auto& seg : e.agenda()) {
      EXPECT_LE(seg.presentation_minutes(), 10);
      minutes += seg.presentation_minutes() + seg.discussion_minutes();
    }
    EXPECT_EQ(minutes, 100);
  }
}

TEST(Seed, IdsAreStable) {
  SeedData a = BuildSeedData(), b = BuildSeedData();
  EXPECT_EQ(a.series_id, b.series_id);
  for (size_t i = 0; i < a.events.size(); ++i) EXPECT_EQ(a.events[i].first, b.events[i].first);
}

}  // namespace
}  // namespace ecd::catalogue
