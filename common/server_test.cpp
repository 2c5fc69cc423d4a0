#include "common/server.hpp"

#include <absl/synchronization/mutex.h>
#include <gtest/gtest.h>

#include <cstdlib>

namespace ecd {
namespace {

// Takes two mutexes in one order, then in the other: the inversion abseil's deadlock detector
// looks for.
void InvertLockOrder() {
  absl::Mutex a, b;
  a.Lock();
  b.Lock();
  b.Unlock();
  a.Unlock();
  b.Lock();
  a.Lock();
  a.Unlock();
  b.Unlock();
}

// Debian's libabsl runs in debug mode: its deadlock detector tracks every absl::Mutex (and gRPC
// takes many per call), and aborts on an inversion. If this ever stops dying, the detector is off
// by default and PrepareProcess's switch has become unnecessary.
TEST(PrepareProcessDeathTest, AbseilTracksLockOrderByDefaultHere) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(InvertLockOrder(), "");
}

TEST(PrepareProcessDeathTest, TurnsTheLockOrderTrackingOff) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        PrepareProcess();
        InvertLockOrder();
        std::exit(0);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace ecd
