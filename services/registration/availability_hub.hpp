#pragma once
// Tells WatchAvailability streams when an event's figures change, on whichever replica changed
// them: every change does pg_notify('ecd_availability', event id) in its transaction, and each
// process LISTENs on a connection of its own (common/pg_listener). After a lost connection every
// watcher is told (a notification may have been missed while it was down).
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "common/pg_listener.hpp"

namespace ecd::registration {

class AvailabilityHub {
 public:
  using Callback = std::function<void()>;
  explicit AvailabilityHub(std::string pg_url);
  ~AvailabilityHub();

  void Start();
  // Stops listening and calls every watcher's on_close (server shutdown).
  void Stop();
  // Returns a handle for Unsubscribe. on_change may be called from the listener thread.
  uint64_t Subscribe(const std::string& event_id, Callback on_change, Callback on_close);
  void Unsubscribe(uint64_t handle);
  // `fn` is called (from the listener thread) at every change of any event, and after a lost
  // connection; null stops it. The outbox relay wakes on it: each change writes outbox rows.
  void OnEveryChange(Callback fn);

 private:
  void Dispatch(const std::string& event_id);
  void DispatchAll();

  PgListener listener_;
  std::mutex mu_;
  uint64_t next_ = 1;
  struct Watcher {
    std::string event_id;
    Callback on_change;
    Callback on_close;
  };
  std::map<uint64_t, Watcher> watchers_;
  Callback every_change_;
};

}  // namespace ecd::registration
