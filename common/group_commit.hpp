#pragma once
// Group commit: work is handed in and not waited for; a leader takes everything waiting, up to
// `max_size` items, and runs it in one go (one transaction, one round trip), then the next group,
// until nothing waits. At most `max_groups` leaders run at once: a thread that hands work in
// while fewer run becomes one, otherwise it goes on at once (its item joins a running leader's
// next group). Under light load every group has one item, run by the thread that handed it in;
// under load the groups grow by themselves.
//
// Nobody waits for an item: `run` gives each item of a group its answer and hands it on (for a
// gRPC call, finishes it), on the leader's thread. So a call under load costs no thread of its
// own, no sleep and no wake-up: one leader answers a whole group (before this, each call's thread
// slept until its group ended and was woken to answer: two thread switches a call).
//
// With a `key` (for Register: the quota row an item locks), a leader leaves out of its group the
// items whose key a group running on another leader holds: they would only wait for that group's
// commit inside the database, and one large group sharing a row with the other held both up.
// They stay waiting, in order, and the leader holding their key takes them into its next group;
// a leader that finds nothing else waiting stops leading. So two leaders run in parallel on
// different rows, and on one contended row (a burst for one event) groups follow each other at
// full size instead of queueing on its lock.
//
// A key may also have at most `max_waiting_per_key` items waiting: past it, Post refuses items
// for that key only. A flood for one key (a stranger's calls for one event and country) then
// neither fills the whole waiting room, refusing everyone else, nor hides the other keys' items
// from a second leader: one look passes over all the items the running groups' keys can have
// waiting.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ecd {

struct GroupCommitOptions {
  int max_groups = 2;
  int max_size = 32;
  // Items waiting for a group at most (0: no bound): past it, Post refuses more (overload).
  size_t max_waiting = 0;
  // With a key: items waiting for one key at most (0: no bound); past it, Post refuses more for
  // that key, and the others' still come in.
  size_t max_waiting_per_key = 0;
};

template <class Item>
class GroupCommit {
 public:
  // `run` gets the items of one group, in the order they were handed in, and answers each (an
  // item may also be handed in again from `run`, through Requeue). It should not throw: an
  // exception is logged and the leader goes on with the next group, but the items of that group
  // get no answer from here. Called on a leader's thread, never under a lock of this object.
  using RunFn = std::function<void(const std::vector<Item*>&)>;
  // What an item contends for (items with the same key wait for each other's groups). Called
  // under this object's lock: it must be cheap and must not throw.
  using KeyFn = std::function<uint64_t(const Item&)>;

  GroupCommit(GroupCommitOptions options, RunFn run, KeyFn key = nullptr)
      : max_groups_(std::max(1, options.max_groups)),
        max_size_(static_cast<size_t>(std::max(1, options.max_size))),
        max_waiting_(options.max_waiting),
        max_waiting_per_key_(key ? options.max_waiting_per_key : 0),
        scan_limit_(ScanLimitFor(max_groups_, max_size_, max_waiting_per_key_)),
        run_(std::move(run)),
        key_(std::move(key)) {
    held_.reserve(static_cast<size_t>(max_groups_) * max_size_);
  }

  // Items handed in and not yet taken into a group.
  size_t Waiting() {
    std::lock_guard lock(mu_);
    return waiting_.size();
  }

  // Hands `item` in (it must live until `run` has answered it). When fewer than max_groups
  // leaders run, this thread leads: it runs groups until nothing waits, then returns. Otherwise
  // it returns at once. Never throws once the item is in (the group the leader runs is other
  // calls' as much as its own). False, and the item is not taken, when max_waiting items wait,
  // or max_waiting_per_key for its key.
  [[nodiscard]] bool Post(Item* item) {
    std::unique_lock lock(mu_);
    if (max_waiting_ != 0 && waiting_.size() >= max_waiting_) return false;
    if (!Enqueue(item, /*bounded=*/true)) return false;
    if (running_ >= max_groups_) return true;
    // Reserved before this thread counts as a leader: nothing below allocates.
    std::vector<Item*> group;
    group.reserve(max_size_);
    std::vector<uint64_t> keys;
    if (key_) keys.reserve(max_size_);
    ++running_;
    while (!waiting_.empty()) {
      Take(group, keys);
      if (group.empty()) break;  // all that waits is for the groups running: their leaders take it
      held_.insert(held_.end(), keys.begin(), keys.end());
      lock.unlock();
      try {
        run_(group);
      } catch (const std::exception& e) {
        spdlog::error("group commit: a group of {} failed: {}", group.size(), e.what());
      } catch (...) {
        spdlog::error("group commit: a group of {} failed", group.size());
      }
      lock.lock();
      for (uint64_t k : keys) {
        auto it = std::find(held_.begin(), held_.end(), k);
        *it = held_.back();
        held_.pop_back();
      }
    }
    --running_;
    return true;
  }

  // From inside `run` only: hands `item` in again, to a later group of a running leader (the one
  // calling, at the latest), without leading (and past max_waiting: it was taken already).
  void Requeue(Item* item) {
    std::lock_guard lock(mu_);
    Enqueue(item, /*bounded=*/false);
  }

  // Items waiting for `key` (counted only with max_waiting_per_key).
  size_t WaitingFor(uint64_t key) {
    std::lock_guard lock(mu_);
    auto it = waiting_per_key_.find(key);
    return it == waiting_per_key_.end() ? 0 : it->second;
  }

 private:
  // Items passed over in one look for a group, at most: a bound on the time under the lock,
  // large enough that a backlog for one key (a burst for one event and country) does not hide
  // the other keys' items behind it from a second leader. With a bound per key, as many as the
  // other running groups' keys can have waiting (requeued items may pass the bound by a group's
  // size): then nothing hides. With registration's defaults that is the whole waiting room
  // (1024 items, a call of the key function and a look at 8 held keys each: tens of
  // microseconds), and only while a backlog for held keys is there.
  static size_t ScanLimitFor(int max_groups, size_t max_size, size_t per_key) {
    const size_t held =
        per_key == 0 ? 0 : static_cast<size_t>(max_groups - 1) * max_size * (per_key + max_size);
    return std::max<size_t>({256, 4 * max_size, held});
  }

  // Under the lock: `item` waits, counted under its key with max_waiting_per_key. False, and
  // nothing changes, when `bounded` and its key has max_waiting_per_key waiting already. The
  // key's entry is made before the item goes in: an item waiting always has one (Take counts
  // it down), even if an allocation fails in between.
  bool Enqueue(Item* item, bool bounded) {
    if (max_waiting_per_key_ == 0) {
      waiting_.push_back(item);
      return true;
    }
    size_t& n = waiting_per_key_[key_(*item)];
    if (bounded && n >= max_waiting_per_key_) return false;
    waiting_.push_back(item);
    ++n;
    return true;
  }

  // Under the lock: the next group, in order, without the items whose key another leader's
  // running group holds (they stay waiting, in order); `keys` gets the group's keys. The items
  // passed over move down to the front over those taken, and the taken slots go in one erase.
  // Allocates nothing (group and keys are reserved): it cannot throw once a thread leads.
  void Take(std::vector<Item*>& group, std::vector<uint64_t>& keys) {
    group.clear();
    keys.clear();
    size_t kept = 0, i = 0;
    for (; i < waiting_.size() && group.size() < max_size_ && kept < scan_limit_; ++i) {
      Item* item = waiting_[i];
      const uint64_t k = key_ ? key_(*item) : 0;
      if (key_ && std::find(held_.begin(), held_.end(), k) != held_.end()) {
        waiting_[kept++] = item;
      } else {
        group.push_back(item);
        if (key_) keys.push_back(k);
        if (max_waiting_per_key_ != 0) {  // its entry exists; erasing allocates nothing
          auto it = waiting_per_key_.find(k);
          if (--it->second == 0) waiting_per_key_.erase(it);
        }
      }
    }
    waiting_.erase(waiting_.begin() + static_cast<std::ptrdiff_t>(kept),
                   waiting_.begin() + static_cast<std::ptrdiff_t>(i));
  }

  const int max_groups_;
  const size_t max_size_;
  const size_t max_waiting_;
  const size_t max_waiting_per_key_;
  const size_t scan_limit_;
  const RunFn run_;
  const KeyFn key_;
  std::mutex mu_;
  std::deque<Item*> waiting_;
  std::vector<uint64_t> held_;  // the keys of the groups running (one entry per item)
  // Items waiting per key, with max_waiting_per_key (a key's entry goes when its last is taken).
  std::unordered_map<uint64_t, size_t> waiting_per_key_;
  int running_ = 0;
};

}  // namespace ecd
