#include "services/certificates/eligibility.hpp"

#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

#include <string>

#include "common/time.hpp"

namespace ecd::certificates {
namespace {

namespace cat = ::ecd::catalogue::v1;
namespace reg = ::ecd::registration::v1;
using google::protobuf::util::TimeUtil;

// The source document's webinar for Africa: 9 July 2020, 08:00-09:45 UTC, 100 minutes counted.
cat::Event Webinar(cat::EventStatus status, int threshold_percent) {
  cat::Event e;
  e.set_name("events/5eed0000-0000-4000-8000-000000000012");
  e.set_status(status);
  e.set_duration_minutes(100);
  e.set_certificate_threshold_percent(threshold_percent);
  TimeUtil::FromString("2020-07-09T08:00:00Z", e.mutable_start_time());
  TimeUtil::FromString("2020-07-09T09:45:00Z", e.mutable_end_time());
  return e;
}

reg::Registration Participant(reg::RegistrationStatus status, int minutes) {
  reg::Registration r;
  r.set_status(status);
  r.set_attended_minutes(minutes);
  return r;
}

const int64_t kLater = 1'600'000'000'000'000;  // September 2020

TEST(Eligibility, AtLeastTheThresholdOfACompletedEventForConfirmedParticipants) {
  const auto done = Webinar(cat::EVENT_STATUS_COMPLETED, 75);
  EXPECT_EQ(RequiredMinutes(done), 75);
  EXPECT_TRUE(
      CheckEligibility(done, Participant(reg::REGISTRATION_STATUS_CONFIRMED, 75), kLater).ok());
  EXPECT_TRUE(
      CheckEligibility(done, Participant(reg::REGISTRATION_STATUS_CONFIRMED, 100), kLater).ok());
  Status short_by_one =
      CheckEligibility(done, Participant(reg::REGISTRATION_STATUS_CONFIRMED, 74), kLater);
  EXPECT_EQ(short_by_one.code(), Code::kFailedPrecondition);
  EXPECT_EQ(short_by_one.reason(), "NOT_ELIGIBLE");
  EXPECT_NE(short_by_one.message().find("attended 74 of the 75 minutes"), std::string::npos)
      << short_by_one.message();
}

TEST(Eligibility, RoundsTheRequirementUp) {
  // 100 minutes at 66%: 66 minutes; at 66.5% there is no such setting, but 101 minutes at 50%
  // needs 51 (50.5 rounded up), never 50.
  auto e = Webinar(cat::EVENT_STATUS_COMPLETED, 50);
  e.set_duration_minutes(101);
  EXPECT_EQ(RequiredMinutes(e), 51);
  EXPECT_FALSE(
      CheckEligibility(e, Participant(reg::REGISTRATION_STATUS_CONFIRMED, 50), kLater).ok());
  EXPECT_TRUE(
      CheckEligibility(e, Participant(reg::REGISTRATION_STATUS_CONFIRMED, 51), kLater).ok());
  e.set_certificate_threshold_percent(0);
  EXPECT_EQ(RequiredMinutes(e), 0);
}

TEST(Eligibility, NotBeforeCompletionAndNotForOthersThanConfirmed) {
  for (auto status :
       {cat::EVENT_STATUS_PUBLISHED, cat::EVENT_STATUS_CANCELLED, cat::EVENT_STATUS_DRAFT}) {
    Status st = CheckEligibility(Webinar(status, 75),
                                 Participant(reg::REGISTRATION_STATUS_CONFIRMED, 100), kLater);
    EXPECT_EQ(st.reason(), "NOT_ELIGIBLE") << cat::EventStatus_Name(status);
    EXPECT_NE(st.message().find("completed"), std::string::npos) << st.message();
  }
  for (auto status :
       {reg::REGISTRATION_STATUS_WAITLISTED, reg::REGISTRATION_STATUS_CANCELLED,
        reg::REGISTRATION_STATUS_PENDING_APPROVAL, reg::REGISTRATION_STATUS_REJECTED}) {
    Status st = CheckEligibility(Webinar(cat::EVENT_STATUS_COMPLETED, 75), Participant(status, 100),
                                 kLater);
    EXPECT_EQ(st.reason(), "NOT_ELIGIBLE") << reg::RegistrationStatus_Name(status);
    EXPECT_NE(st.message().find("confirmed"), std::string::npos) << st.message();
  }
}

}  // namespace
}  // namespace ecd::certificates
