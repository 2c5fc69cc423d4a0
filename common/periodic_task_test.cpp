#include "common/periodic_task.hpp"

#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <future>
#include <string>

#include "common/worker_pool.hpp"

namespace ecd {
namespace {

TEST(PeriodicTask, RunsWakesAndStopsPromptly) {
  std::atomic<int> runs{0};
  PeriodicTask task("test", std::chrono::hours(1), [&] { ++runs; });
  task.Start();
  task.Wake();
  for (int i = 0; i < 200 && runs == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(runs, 1) << "woken once, not run again within the hour";
  // Stop wakes the thread: waiting out the hour would time the test out.
  task.Stop();
  task.Stop();  // twice is fine
}

TEST(PeriodicTask, KeepsGoingAfterAnException) {
  std::atomic<int> runs{0};
  PeriodicTask task("test", std::chrono::milliseconds(5), [&] {
    ++runs;
    throw std::runtime_error("boom");
  });
  task.Start();
  for (int i = 0; i < 400 && runs < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_GE(runs, 3);
}

std::string ThisThreadName() {
  char name[16] = {};
  pthread_getname_np(pthread_self(), name, sizeof name);
  return name;
}

// top -H, ps -L and perf tell the threads apart by these names (15 bytes kept).
TEST(PeriodicTask, ItsThreadCarriesItsName) {
  std::promise<std::string> seen;
  PeriodicTask task("idempotency purge", std::chrono::hours(1), [&, once = false]() mutable {
    if (!once) seen.set_value(ThisThreadName());
    once = true;
  });
  task.Start();
  task.Wake();
  auto name = seen.get_future();
  ASSERT_EQ(name.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(name.get(), "idempotency pur");
}

TEST(WorkerPool, ItsThreadsAreNamedWorker) {
  WorkerPool pool(2, 10);
  std::promise<std::string> seen;
  ASSERT_TRUE(pool.TrySubmit([&] { seen.set_value(ThisThreadName()); }));
  auto name = seen.get_future();
  ASSERT_EQ(name.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(name.get(), "worker");
}

}  // namespace
}  // namespace ecd
