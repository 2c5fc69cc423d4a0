#pragma once
// Group commit: threads hand in their work and wait; one of them (the leader) takes everything
// waiting, up to `max_size` items, and runs it in one go (one transaction, one round trip) while
// the others wait for their own items. At most `max_groups` groups run at once; when one ends and
// work is waiting, the thread first in line leads the next group. Under light load every group
// has one item and nobody waits for anybody; under load the groups grow by themselves. Only the
// threads concerned are woken: each waits on its own condition variable (not a semaphore, whose
// waiters spin on sched_yield before they sleep: 4% of the registration service's CPU).
#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

namespace ecd {

struct GroupCommitOptions {
  int max_groups = 2;
  int max_size = 32;
};

template <class Item>
class GroupCommit {
 public:
  // `run` gets the items of one group, in the order they were handed in, and must give each its
  // result. It should not throw: if it does, the group's threads are released all the same (with
  // their items as `run` left them) and the exception goes to the thread that led the group.
  // Called on a submitting thread.
  using RunFn = std::function<void(const std::vector<Item*>&)>;

  GroupCommit(GroupCommitOptions options, RunFn run)
      : max_groups_(std::max(1, options.max_groups)),
        max_size_(static_cast<size_t>(std::max(1, options.max_size))),
        run_(std::move(run)) {}

  // Items handed in and not yet taken into a group.
  size_t Waiting() {
    std::lock_guard lock(mu_);
    return waiting_.size();
  }

  // Returns once `item` has been run, in a group this thread led or another one did.
  void Submit(Item& item) {
    Slot slot{&item};
    std::unique_lock lock(mu_);
    waiting_.push_back(&slot);
    for (;;) {
      if (slot.done) return;
      slot.woken = false;
      if (running_ < max_groups_ && !waiting_.empty()) {
        try {
          Lead(lock, slot);
        } catch (...) {
          std::erase(waiting_, &slot);
          throw;
        }
        continue;
      }
      slot.wake.wait(lock, [&] { return slot.woken || slot.done; });
    }
  }

 private:
  struct Slot {
    Item* item;
    bool done = false;
    bool woken = false;  // told to look again
    std::condition_variable wake;
  };

  // Takes the waiting items (up to max_size) and runs them as one group.
  void Lead(std::unique_lock<std::mutex>& lock, Slot& self) {
    std::vector<Slot*> group;
    group.reserve(std::min(waiting_.size(), max_size_));
    while (!waiting_.empty() && group.size() < max_size_) {
      group.push_back(waiting_.front());
      waiting_.pop_front();
    }
    ++running_;
    struct Finish {  // also when run_ throws: nobody may wait for a group that has ended
      GroupCommit* commit;
      std::unique_lock<std::mutex>& lock;
      std::vector<Slot*>& group;
      Slot& self;
      ~Finish() {
        lock.lock();
        --commit->running_;
        for (Slot* s : group) {
          s->done = true;
          if (s != &self) s->wake.notify_one();
        }
        commit->WakeNextLeader();
      }
    } finish{this, lock, group, self};
    // More waiting than one group takes, and room for another group: its leader.
    if (running_ < max_groups_) WakeNextLeader();
    lock.unlock();
    std::vector<Item*> items;
    items.reserve(group.size());
    for (Slot* s : group) items.push_back(s->item);
    run_(items);
  }

  // Wakes the first waiting thread not woken yet, to lead the next group (a wake-up it no longer
  // needs is harmless: every waiter looks again under the lock).
  void WakeNextLeader() {
    for (Slot* s : waiting_) {
      if (!s->woken) {
        s->woken = true;
        s->wake.notify_one();
        return;
      }
    }
  }

  const int max_groups_;
  const size_t max_size_;
  const RunFn run_;
  std::mutex mu_;
  std::deque<Slot*> waiting_;
  int running_ = 0;
};

}  // namespace ecd
