#include "common/group_commit.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace ecd {
namespace {

struct Job {
  int input = 0;
  int output = 0;
  int runs = 0;
  std::thread::id ran_on;
};

TEST(GroupCommit, AloneEachItemRunsOnItsOwnThreadInAGroupOfOne) {
  std::vector<size_t> sizes;
  GroupCommit<Job> commit({.max_groups = 2, .max_size = 8}, [&](const std::vector<Job*>& group) {
    sizes.push_back(group.size());
    for (Job* j : group) {
      j->output = j->input * 2;
      j->ran_on = std::this_thread::get_id();
    }
  });
  for (int i = 1; i <= 3; ++i) {
    Job job{i};
    commit.Submit(job);
    EXPECT_EQ(job.output, 2 * i);
    EXPECT_EQ(job.ran_on, std::this_thread::get_id());
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{1, 1, 1}));
}

// While the only group runs, five more calls arrive: the next group takes all five at once, and
// each caller gets its own answer.
TEST(GroupCommit, CallsArrivingDuringAGroupFormTheNextOne) {
  std::mutex mu;
  std::vector<std::vector<int>> groups;
  GroupCommit<Job>* self = nullptr;
  GroupCommit<Job> commit({.max_groups = 1, .max_size = 32}, [&](const std::vector<Job*>& group) {
    std::vector<int> inputs;
    for (Job* j : group) inputs.push_back(j->input);
    bool first = false;
    {
      std::lock_guard lock(mu);
      first = groups.empty();
      groups.push_back(inputs);
    }
    if (first) {
      while (self->Waiting() < 5) std::this_thread::yield();
    }
    for (Job* j : group) {
      j->output = j->input * 10;
      ++j->runs;
    }
  });
  self = &commit;
  Job first{1};
  std::thread leader([&] { commit.Submit(first); });
  while (true) {
    std::lock_guard lock(mu);
    if (!groups.empty()) break;
  }
  std::vector<Job> jobs(5);
  std::vector<std::thread> threads;
  for (int i = 0; i < 5; ++i) {
    jobs[i].input = 100 + i;
    threads.emplace_back([&, i] { commit.Submit(jobs[i]); });
  }
  leader.join();
  for (auto& t : threads) t.join();
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0], std::vector<int>{1});
  EXPECT_EQ(std::set<int>(groups[1].begin(), groups[1].end()),
            (std::set<int>{100, 101, 102, 103, 104}));
  EXPECT_EQ(first.output, 10);
  for (const Job& j : jobs) {
    EXPECT_EQ(j.output, j.input * 10);
    EXPECT_EQ(j.runs, 1);
  }
}

// A group never holds more than max_size items, and no more than max_groups groups run at once;
// every item runs exactly once, whoever leads.
TEST(GroupCommit, BoundsHoldUnderManyThreads) {
  constexpr int kThreads = 16, kEach = 200, kMaxGroups = 2, kMaxSize = 3;
  std::atomic<int> running{0}, most_running{0};
  std::atomic<size_t> largest{0};
  std::atomic<int> groups{0};
  GroupCommit<Job> commit(
      {.max_groups = kMaxGroups, .max_size = kMaxSize}, [&](const std::vector<Job*>& group) {
        const int now = ++running;
        int seen = most_running.load();
        while (now > seen && !most_running.compare_exchange_weak(seen, now)) {
        }
        size_t big = largest.load();
        while (group.size() > big && !largest.compare_exchange_weak(big, group.size())) {
        }
        ++groups;
        for (Job* j : group) {
          j->output = j->input + 1;
          ++j->runs;
        }
        std::this_thread::yield();
        --running;
      });
  std::vector<std::vector<Job>> jobs(kThreads, std::vector<Job>(kEach));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        jobs[t][i].input = t * kEach + i;
        commit.Submit(jobs[t][i]);
        // The answer is there when Submit returns.
        EXPECT_EQ(jobs[t][i].output, t * kEach + i + 1);
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& list : jobs) {
    for (const Job& j : list) EXPECT_EQ(j.runs, 1);
  }
  EXPECT_LE(most_running.load(), kMaxGroups);
  EXPECT_LE(largest.load(), static_cast<size_t>(kMaxSize));
  EXPECT_EQ(commit.Waiting(), 0u);
  // Printed, not asserted (it depends on scheduling): how much grouping happened.
  std::printf("%d items in %d groups\n", kThreads * kEach, groups.load());
}

// A group whose run throws still releases everyone in it; the exception reaches its leader, and
// the next group runs as usual.
TEST(GroupCommit, AThrowingGroupReleasesItsThreads) {
  GroupCommit<Job>* self = nullptr;
  std::atomic<int> groups{0};
  GroupCommit<Job> commit({.max_groups = 1, .max_size = 8}, [&](const std::vector<Job*>& group) {
    if (groups++ == 0) {
      while (self->Waiting() < 3) std::this_thread::yield();
      throw std::runtime_error("the first group fails");
    }
    for (Job* j : group) j->output = j->input;
  });
  self = &commit;
  Job first{1};
  std::atomic<bool> thrown{false};
  std::thread leader([&] {
    try {
      commit.Submit(first);
    } catch (const std::runtime_error&) {
      thrown = true;
    }
  });
  while (groups.load() == 0) std::this_thread::yield();
  std::vector<Job> jobs(3);
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    jobs[i].input = 10 + i;
    threads.emplace_back([&, i] { commit.Submit(jobs[i]); });
  }
  leader.join();
  for (auto& t : threads) t.join();
  EXPECT_TRUE(thrown.load());
  EXPECT_EQ(first.output, 0);
  for (const Job& j : jobs) EXPECT_EQ(j.output, j.input);
  EXPECT_EQ(commit.Waiting(), 0u);
}

// More callers wait than the object has condition variables (128), so some share one: each is
// still woken when its item has run (a wake-up meant for one of them reaches all who share it).
TEST(GroupCommit, MoreWaitersThanWakeUpsAllGetTheirAnswers) {
  constexpr int kWaiters = 300;
  GroupCommit<Job>* self = nullptr;
  std::atomic<int> groups{0};
  GroupCommit<Job> commit({.max_groups = 1, .max_size = 64}, [&](const std::vector<Job*>& group) {
    if (groups++ == 0) {
      while (self->Waiting() < static_cast<size_t>(kWaiters)) std::this_thread::yield();
    }
    for (Job* j : group) {
      j->output = j->input + 7;
      ++j->runs;
    }
  });
  self = &commit;
  Job first{1};
  std::thread leader([&] { commit.Submit(first); });
  while (groups.load() == 0) std::this_thread::yield();
  std::vector<Job> jobs(kWaiters);
  std::atomic<int> answered{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kWaiters; ++i) {
    jobs[i].input = i;
    threads.emplace_back([&, i] {
      commit.Submit(jobs[i]);
      ++answered;
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (answered.load() < kWaiters && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (answered.load() < kWaiters) {
    // A lost wake-up: those threads would wait for ever, and joining them would hang the test.
    ADD_FAILURE() << kWaiters - answered.load() << " callers never woke";
    std::_Exit(1);
  }
  leader.join();
  for (auto& t : threads) t.join();
  for (const Job& j : jobs) {
    EXPECT_EQ(j.output, j.input + 7);
    EXPECT_EQ(j.runs, 1);
  }
  EXPECT_EQ(commit.Waiting(), 0u);
}

}  // namespace
}  // namespace ecd
