#include "services/notifications/planner.hpp"

#include <gtest/gtest.h>

namespace ecd::notifications {
namespace {

constexpr int64_t kMinute = int64_t{60} * 1000000, kHour = 60 * kMinute;
constexpr int64_t kStart = 1'594'281'600'000'000;  // 2020-07-09T08:00:00Z

TEST(Planner, WhatComesDueIsSentUnlessTheOneHourReminderSupersedesIt) {
  // On time: each is sent.
  EXPECT_FALSE(Pointless("info_kit", true, kStart - 72 * kHour, kStart));
  EXPECT_FALSE(Pointless("reminder_24h", true, kStart - 24 * kHour, kStart));
  EXPECT_FALSE(Pointless("reminder_1h", true, kStart - kHour, kStart));
  // Less than an hour before the start (the planner was down, the event moved closer): only
  // the 1-hour reminder still goes.
  EXPECT_TRUE(Pointless("info_kit", true, kStart - 59 * kMinute, kStart));
  EXPECT_TRUE(Pointless("reminder_24h", true, kStart - 30 * kMinute, kStart));
  EXPECT_FALSE(Pointless("reminder_1h", true, kStart - 30 * kMinute, kStart));
  // Started, or no longer published: nothing.
  EXPECT_TRUE(Pointless("reminder_1h", true, kStart, kStart));
  EXPECT_TRUE(Pointless("reminder_1h", false, kStart - 30 * kMinute, kStart));
  EXPECT_TRUE(Pointless("info_kit", false, kStart - 72 * kHour, kStart));
}

}  // namespace
}  // namespace ecd::notifications
