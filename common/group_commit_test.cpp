#include "common/group_commit.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "tests/harness/wait_for.hpp"

namespace ecd {
namespace {

struct Job {
  int input = 0;
  int output = 0;
  int runs = 0;
  std::thread::id ran_on;
};

using test::WaitFor;

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
    EXPECT_TRUE(commit.Post(&job));
    // Nothing else ran: the thread that handed the item in ran it before Post returned.
    EXPECT_EQ(job.output, 2 * i);
    EXPECT_EQ(job.ran_on, std::this_thread::get_id());
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{1, 1, 1}));
}

// While the only group runs, five more items arrive: their threads go on at once (nobody waits
// for an answer), and the leader runs all five as its next group.
TEST(GroupCommit, ItemsArrivingDuringAGroupFormTheLeadersNextOne) {
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
      j->ran_on = std::this_thread::get_id();
      ++j->runs;
    }
  });
  self = &commit;
  Job first{1};
  std::thread::id leader_id;
  std::thread leader([&] {
    leader_id = std::this_thread::get_id();
    EXPECT_TRUE(commit.Post(&first));
  });
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard lock(mu);
    return !groups.empty();
  }));
  std::vector<Job> jobs(5);
  for (int i = 0; i < 5; ++i) {
    jobs[i].input = 100 + i;
    EXPECT_TRUE(commit.Post(&jobs[i]));  // returns at once: the only group is taken
  }
  leader.join();
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0], std::vector<int>{1});
  EXPECT_EQ(groups[1], (std::vector<int>{100, 101, 102, 103, 104}));  // in the order handed in
  EXPECT_EQ(first.output, 10);
  for (const Job& j : jobs) {
    EXPECT_EQ(j.output, j.input * 10);
    EXPECT_EQ(j.runs, 1);
    EXPECT_EQ(j.ran_on, leader_id);
  }
  EXPECT_EQ(commit.Waiting(), 0u);
}

// A group never holds more than max_size items, and no more than max_groups groups run at once;
// every item runs exactly once, whoever leads.
TEST(GroupCommit, BoundsHoldUnderManyThreads) {
  constexpr int kThreads = 16, kEach = 200, kMaxGroups = 2, kMaxSize = 3;
  std::atomic<int> running{0}, most_running{0};
  std::atomic<size_t> largest{0};
  std::atomic<int> groups{0}, answered{0};
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
        answered += static_cast<int>(group.size());
      });
  std::vector<std::vector<Job>> jobs(kThreads, std::vector<Job>(kEach));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        jobs[t][i].input = t * kEach + i;
        EXPECT_TRUE(commit.Post(&jobs[t][i]));
      }
    });
  }
  for (auto& t : threads) t.join();
  // Every Post has returned, and a leader runs until nothing waits: all are answered.
  EXPECT_EQ(answered.load(), kThreads * kEach);
  for (const auto& list : jobs) {
    for (const Job& j : list) {
      EXPECT_EQ(j.runs, 1);
      EXPECT_EQ(j.output, j.input + 1);
    }
  }
  EXPECT_LE(most_running.load(), kMaxGroups);
  EXPECT_LE(largest.load(), static_cast<size_t>(kMaxSize));
  EXPECT_EQ(commit.Waiting(), 0u);
  // Printed, not asserted (it depends on scheduling): how much grouping happened.
  std::printf("%d items in %d groups\n", kThreads * kEach, groups.load());
}

// A group whose run throws does not stop its leader: the items waiting behind it still run, and
// nothing is thrown at the leader (its thread works for other items as much as for its own).
TEST(GroupCommit, AThrowingGroupDoesNotStopTheGroupsBehindIt) {
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
      EXPECT_TRUE(commit.Post(&first));
    } catch (...) {
      thrown = true;
    }
  });
  ASSERT_TRUE(WaitFor([&] { return groups.load() > 0; }));
  std::vector<Job> jobs(3);
  for (int i = 0; i < 3; ++i) {
    jobs[i].input = 10 + i;
    EXPECT_TRUE(commit.Post(&jobs[i]));
  }
  leader.join();
  EXPECT_FALSE(thrown.load());
  EXPECT_EQ(groups.load(), 2);
  EXPECT_EQ(first.output, 0);
  for (const Job& j : jobs) EXPECT_EQ(j.output, j.input);
  EXPECT_EQ(commit.Waiting(), 0u);
  // The leader's place was given back: the next item is led by the thread that hands it in.
  Job after{5};
  EXPECT_TRUE(commit.Post(&after));
  EXPECT_EQ(after.output, 5);
}

// An item handed in again from `run` (a call to try again) runs in a later group of the same
// leader, and the leader does not return before it has.
TEST(GroupCommit, ARequeuedItemRunsInALaterGroup) {
  GroupCommit<Job>* self = nullptr;
  std::vector<std::vector<int>> groups;
  GroupCommit<Job> commit({.max_groups = 2, .max_size = 8}, [&](const std::vector<Job*>& group) {
    std::vector<int> inputs;
    for (Job* j : group) {
      inputs.push_back(j->input);
      if (++j->runs < 3) {
        self->Requeue(j);
      } else {
        j->output = j->input;
      }
    }
    groups.push_back(inputs);
  });
  self = &commit;
  Job job{7};
  EXPECT_TRUE(commit.Post(&job));
  EXPECT_EQ(job.runs, 3);
  EXPECT_EQ(job.output, 7);
  EXPECT_EQ(groups, (std::vector<std::vector<int>>{{7}, {7}, {7}}));
  EXPECT_EQ(commit.Waiting(), 0u);
}

// Many more items than a group holds arrive while the only group is stalled, all from one thread:
// none of them makes the thread wait, and the leader then runs them all, in groups of at most
// max_size, in order.
TEST(GroupCommit, AStalledGroupBlocksNoThreadThatHandsWorkIn) {
  constexpr int kItems = 300;
  GroupCommit<Job>* self = nullptr;
  std::atomic<int> groups{0};
  std::atomic<bool> release{false};
  std::vector<int> order;
  GroupCommit<Job> commit({.max_groups = 1, .max_size = 64}, [&](const std::vector<Job*>& group) {
    if (groups++ == 0) {
      while (!release.load()) std::this_thread::yield();
    }
    EXPECT_LE(group.size(), 64u);
    for (Job* j : group) {
      j->output = j->input + 7;
      ++j->runs;
      order.push_back(j->input);
    }
  });
  self = &commit;
  Job first{-1};
  std::thread leader([&] { EXPECT_TRUE(commit.Post(&first)); });
  ASSERT_TRUE(WaitFor([&] { return groups.load() > 0; }));
  std::vector<Job> jobs(kItems);
  for (int i = 0; i < kItems; ++i) {
    jobs[i].input = i;
    EXPECT_TRUE(
        commit.Post(&jobs[i]));  // would hang here if handing in waited for the stalled group
  }
  EXPECT_EQ(self->Waiting(), static_cast<size_t>(kItems));
  release = true;
  leader.join();
  EXPECT_EQ(groups.load(), 1 + (kItems + 63) / 64);
  ASSERT_EQ(order.size(), static_cast<size_t>(kItems + 1));
  for (int i = 0; i < kItems; ++i) {
    EXPECT_EQ(jobs[i].output, i + 7);
    EXPECT_EQ(jobs[i].runs, 1);
    EXPECT_EQ(order[i + 1], i);
  }
  EXPECT_EQ(commit.Waiting(), 0u);
}

// Past max_waiting items waiting (while the only group is stalled), Post refuses the next one
// and does not take it; once the waiting ones are in a group, it takes items again.
TEST(GroupCommit, PastMaxWaitingPostRefusesWithoutTakingTheItem) {
  std::atomic<int> groups{0};
  std::atomic<bool> release{false};
  GroupCommit<Job> commit({.max_groups = 1, .max_size = 8, .max_waiting = 2},
                          [&](const std::vector<Job*>& group) {
                            if (groups++ == 0) {
                              while (!release.load()) std::this_thread::yield();
                            }
                            for (Job* j : group) ++j->runs;
                          });
  Job first{1};
  std::thread leader([&] { EXPECT_TRUE(commit.Post(&first)); });
  ASSERT_TRUE(WaitFor([&] { return groups.load() > 0; }));
  std::vector<Job> jobs(3);
  EXPECT_TRUE(commit.Post(&jobs[0]));
  EXPECT_TRUE(commit.Post(&jobs[1]));
  EXPECT_FALSE(commit.Post(&jobs[2]));  // two wait already
  EXPECT_EQ(commit.Waiting(), 2u);
  release = true;
  leader.join();
  EXPECT_EQ(jobs[0].runs, 1);
  EXPECT_EQ(jobs[1].runs, 1);
  EXPECT_EQ(jobs[2].runs, 0);  // refused, never run
  EXPECT_TRUE(commit.Post(&jobs[2]));
  EXPECT_EQ(jobs[2].runs, 1);
}

// With keys: while a group holding key 1 is stalled, an item for key 1 is left out of the other
// leader's group (it would only wait for the stalled group's commit) and stays waiting; that
// leader, finding nothing else, stops leading, and Post returns. An item for key 2 then forms a
// group of its own on another thread. Once the stalled group ends, its leader takes the items for
// key 1, in the order they came. Without keys, the key-2 item's group would take them first.
TEST(GroupCommit, ItemsForAKeyARunningGroupHoldsWaitForThatGroupsLeader) {
  struct Keyed {
    int input = 0;
    uint64_t key = 0;
    std::thread::id ran_on;
  };
  std::mutex mu;
  std::vector<std::vector<int>> groups;
  std::atomic<bool> release{false};
  std::atomic<int> started{0};
  GroupCommit<Keyed> commit(
      {.max_groups = 2, .max_size = 8},
      [&](const std::vector<Keyed*>& group) {
        if (started++ == 0) {
          while (!release.load()) std::this_thread::yield();
        }
        std::vector<int> inputs;
        for (Keyed* k : group) {
          inputs.push_back(k->input);
          k->ran_on = std::this_thread::get_id();
        }
        std::lock_guard lock(mu);
        groups.push_back(inputs);
      },
      [](const Keyed& k) { return k.key; });
  Keyed first{1, 1};
  std::thread::id leader_id;
  std::thread leader([&] {
    leader_id = std::this_thread::get_id();
    EXPECT_TRUE(commit.Post(&first));
  });
  ASSERT_TRUE(WaitFor([&] { return started.load() == 1; }));
  // Handed in by this thread while one of two leaders runs: it could lead, but the only item
  // waiting is for key 1, so it returns at once without running anything.
  Keyed same1{2, 1}, same2{3, 1};
  EXPECT_TRUE(commit.Post(&same1));
  EXPECT_TRUE(commit.Post(&same2));
  EXPECT_EQ(commit.Waiting(), 2u);
  // Key 2 is free: this thread leads a group of that item alone.
  Keyed other{4, 2};
  EXPECT_TRUE(commit.Post(&other));
  EXPECT_EQ(other.ran_on, std::this_thread::get_id());
  EXPECT_EQ(commit.Waiting(), 2u);
  release = true;
  leader.join();
  EXPECT_EQ(groups, (std::vector<std::vector<int>>{{4}, {1}, {2, 3}}));
  EXPECT_EQ(same1.ran_on, leader_id);
  EXPECT_EQ(same2.ran_on, leader_id);
  EXPECT_EQ(commit.Waiting(), 0u);
}

// An item with a key, and whether it ran.
struct KeyedJob {
  int input = 0;
  uint64_t key = 0;
  bool ran = false;
};

// A keyed group commit whose first group (one item for key 1, led by a thread of its own) stalls
// until Release(): meanwhile key 1 is held. `on_group` sees each group once it ran.
class StalledKeyOne {
 public:
  explicit StalledKeyOne(GroupCommitOptions options,
                         std::function<void(const std::vector<KeyedJob*>&)> on_group = {})
      : commit_(
            options,
            [this, on_group = std::move(on_group)](const std::vector<KeyedJob*>& group) {
              if (started_++ == 0) {
                while (!release_.load()) std::this_thread::yield();
              }
              for (KeyedJob* k : group) k->ran = true;
              if (on_group) on_group(group);
            },
            [](const KeyedJob& k) { return k.key; }) {
    leader_ = std::thread([this] { EXPECT_TRUE(commit_.Post(&first_)); });
  }
  ~StalledKeyOne() {
    if (leader_.joinable()) Release();
  }
  // Whether the first group is stalled (its leader holds key 1).
  bool Stalled() {
    return WaitFor([&] { return started_.load() == 1; });
  }
  // Lets the first group end; its leader runs what waits, then Release returns.
  void Release() {
    release_ = true;
    leader_.join();
  }
  GroupCommit<KeyedJob>& commit() { return commit_; }

 private:
  std::atomic<bool> release_{false};
  std::atomic<int> started_{0};
  KeyedJob first_{0, 1};
  GroupCommit<KeyedJob> commit_;
  std::thread leader_;
};

// A backlog for one held key (a burst for one event and country, larger than several groups)
// does not hide an item for another key behind it: a second leader still finds it.
TEST(GroupCommit, ABacklogForAHeldKeyDoesNotHideOtherKeysBehindIt) {
  std::mutex mu;
  std::vector<size_t> sizes;
  StalledKeyOne stalled({.max_groups = 2, .max_size = 8}, [&](const std::vector<KeyedJob*>& group) {
    std::lock_guard lock(mu);
    sizes.push_back(group.size());
  });
  auto& commit = stalled.commit();
  ASSERT_TRUE(stalled.Stalled());
  std::vector<KeyedJob> backlog(200);
  for (int i = 0; i < 200; ++i) {
    backlog[i] = {i + 1, 1};
    EXPECT_TRUE(commit.Post(&backlog[i]));
  }
  KeyedJob other{1000, 2};
  EXPECT_TRUE(commit.Post(&other));
  EXPECT_TRUE(other.ran) << "the item for a free key waited behind the held key's backlog";
  EXPECT_EQ(commit.Waiting(), 200u);
  stalled.Release();
  for (const auto& b : backlog) EXPECT_TRUE(b.ran);
  EXPECT_EQ(commit.Waiting(), 0u);
  // The backlog ran in full groups, after the first.
  ASSERT_EQ(sizes.size(), 2u + 200u / 8u);
  for (size_t g = 2; g < sizes.size(); ++g) EXPECT_EQ(sizes[g], 8u);
}

// With a bound per key, a flood for one key (while its group is stalled) is refused past the
// bound, and only for that key: items for other keys still come in and run. Without it, the
// flood would fill max_waiting and refuse everyone.
TEST(GroupCommit, AFloodForOneKeyIsRefusedPastItsBoundAndOnlyForThatKey) {
  StalledKeyOne stalled(
      {.max_groups = 2, .max_size = 8, .max_waiting = 64, .max_waiting_per_key = 16});
  auto& commit = stalled.commit();
  ASSERT_TRUE(stalled.Stalled());
  std::vector<KeyedJob> flood(100);
  int taken = 0;
  for (int i = 0; i < 100; ++i) {
    flood[i] = {i + 1, 1};
    if (commit.Post(&flood[i])) ++taken;
  }
  EXPECT_EQ(taken, 16);
  EXPECT_EQ(commit.WaitingFor(1), 16u);
  // Another key comes in and runs at once on this thread, past the 16 waiting for key 1.
  std::vector<KeyedJob> others(10);
  for (int i = 0; i < 10; ++i) {
    others[i] = {1000 + i, static_cast<uint64_t>(2 + i)};
    EXPECT_TRUE(commit.Post(&others[i])) << "key " << others[i].key << " refused";
    EXPECT_TRUE(others[i].ran);
  }
  EXPECT_EQ(commit.WaitingFor(2), 0u);
  stalled.Release();
  for (int i = 0; i < 100; ++i) EXPECT_EQ(flood[i].ran, i < 16) << i;
  EXPECT_EQ(commit.WaitingFor(1), 0u);
  EXPECT_EQ(commit.Waiting(), 0u);
  // Once its backlog ran, the key takes items again.
  EXPECT_TRUE(commit.Post(&flood[99]));
  EXPECT_TRUE(flood[99].ran);
}

// With a bound per key, one look passes over everything the running groups' keys can have
// waiting: an item for a free key behind a full backlog of 300 for a held key (past the 256 a
// look passes over without such a bound) still runs at once.
TEST(GroupCommit, WithABoundPerKeyNoBacklogHidesAFreeKey) {
  StalledKeyOne stalled({.max_groups = 2, .max_size = 8, .max_waiting_per_key = 300});
  auto& commit = stalled.commit();
  ASSERT_TRUE(stalled.Stalled());
  std::vector<KeyedJob> backlog(301);
  for (int i = 0; i < 300; ++i) {
    backlog[i] = {i + 1, 1};
    ASSERT_TRUE(commit.Post(&backlog[i]));
  }
  backlog[300] = {301, 1};
  EXPECT_FALSE(commit.Post(&backlog[300]));  // the bound
  KeyedJob other{1000, 2};
  EXPECT_TRUE(commit.Post(&other));
  EXPECT_TRUE(other.ran) << "the item for a free key waited behind the held key's backlog";
  EXPECT_EQ(commit.WaitingFor(1), 300u);
  stalled.Release();
  for (int i = 0; i < 300; ++i) EXPECT_TRUE(backlog[i].ran) << i;
  EXPECT_FALSE(backlog[300].ran);
  EXPECT_EQ(commit.Waiting(), 0u);
}

}  // namespace
}  // namespace ecd
