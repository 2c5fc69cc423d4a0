#include "common/startup.hpp"

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
// by default and Start's switch has become unnecessary.
TEST(StartDeathTest, AbseilTracksLockOrderByDefaultHere) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(InvertLockOrder(), "");
}

// Start as a service's main calls it (here with an argument it refuses), then the inversion.
void StartThenInvertLockOrder() {
  Startup startup;
  char name[] = "catalogue";
  char bogus[] = "--no-such-mode";
  char* argv[] = {name, bogus};
  Start(2, argv, "catalogue", "127.0.0.1:0", int64_t{1} << 20, {}, nullptr, &startup);
  InvertLockOrder();
  std::exit(0);
}

// Every service's Start turns the tracking off first, even when it then refuses its arguments.
TEST(StartDeathTest, TurnsTheLockOrderTrackingOff) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(StartThenInvertLockOrder(), ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace ecd
