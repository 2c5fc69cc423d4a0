#pragma once
// Group commit: threads hand in their work and wait; one of them (the leader) takes everything
// waiting, up to `max_size` items, and runs it in one go (one transaction, one round trip) while
// the others wait for their own items. At most `max_groups` groups run at once; when one ends and
// work is waiting, the thread first in line leads the next group. Under light load every group
// has one item and nobody waits for anybody; under load the groups grow by themselves. Only the
// threads concerned are woken: each waits on its own condition variable (not a semaphore, whose
// waiters spin on sched_yield before they sleep: 4% of the registration service's CPU). When a
// group ends, its threads and the next leader are woken after the lock is let go (woken under
// it, each of up to max_size threads would wake only to wait for the lock), the next leader
// first: the next group is on the way of every call still waiting, an answer only of its own.
#include <algorithm>
#include <array>
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
    std::unique_lock lock(mu_);
    Slot slot{&item, &wakes_[next_wake_++ % wakes_.size()]};
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
      slot.wake->wait(lock, [&] { return slot.woken || slot.done; });
    }
  }

 private:
  struct Slot {
    Item* item;
    // One of this object's condition variables, in turn: it outlives the slot, so that it may be
    // notified after the lock is let go, when the slot may be gone already. More waiters than
    // condition variables share one, so every wake-up is a notify_all (with one waiter it costs
    // the same); a stale or shared wake-up is harmless: every waiter looks again under the lock.
    std::condition_variable* wake;
    bool done = false;
    bool woken = false;  // told to look again
  };

  // Takes the waiting items (up to max_size) and runs them as one group.
  void Lead(std::unique_lock<std::mutex>& lock, Slot& self) {
    std::vector<Slot*> group;
    group.reserve(std::min(waiting_.size(), max_size_));
    std::vector<std::condition_variable*> to_wake;  // reserved here: Finish may not allocate
    to_wake.reserve(group.capacity() + 1);
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
      std::vector<std::condition_variable*>& to_wake;
      ~Finish() {
        lock.lock();
        --commit->running_;
        to_wake.clear();
        if (auto* next = commit->NextLeader()) to_wake.push_back(next);
        for (Slot* s : group) {
          s->done = true;
          if (s != &self) to_wake.push_back(s->wake);
        }
        lock.unlock();
        for (auto* wake : to_wake) wake->notify_all();
        lock.lock();
      }
    } finish{this, lock, group, self, to_wake};
    // More waiting than one group takes, and room for another group: its leader.
    std::condition_variable* next = running_ < max_groups_ ? NextLeader() : nullptr;
    lock.unlock();
    if (next != nullptr) next->notify_all();
    std::vector<Item*> items;
    items.reserve(group.size());
    for (Slot* s : group) items.push_back(s->item);
    run_(items);
  }

  // The first waiting thread not told yet, to lead the next group: marked, and its wake-up
  // returned for the caller to notify once the lock is let go (or null: nobody to tell).
  std::condition_variable* NextLeader() {
    for (Slot* s : waiting_) {
      if (!s->woken) {
        s->woken = true;
        return s->wake;
      }
    }
    return nullptr;
  }

  const int max_groups_;
  const size_t max_size_;
  const RunFn run_;
  std::mutex mu_;
  std::deque<Slot*> waiting_;
  int running_ = 0;
  std::array<std::condition_variable, 128> wakes_;
  size_t next_wake_ = 0;
};

}  // namespace ecd
