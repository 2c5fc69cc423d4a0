#pragma once
// Plans what is sent relative to an event's start, from the catalogue's data: the information
// kit (the event's lead time before the start), and reminders 24 hours and 1 hour before. It
// follows every event that has confirmed participants: when an event moves, its schedules are
// re-planned and participants get an updated invitation (event_changed, a higher SEQUENCE);
// when it is cancelled they are told (event_cancelled); when its recording is published, too.
// Due schedules are claimed with FOR UPDATE SKIP LOCKED, and every message has a dedupe key, so
// any number of replicas send each once.
#include <atomic>
#include <chrono>
#include <thread>

#include "common/catalogue_client.hpp"
#include "services/notifications/notifier.hpp"
#include "services/notifications/store.hpp"

namespace ecd {
class PgPool;
}

namespace ecd::notifications {

class Planner {
 public:
  Planner(PgPool& pool, Store& store, CatalogueClient& catalogue, Notifier& notifier,
          std::chrono::milliseconds poll);
  ~Planner();
  void Start();
  void Stop();
  // One pass: follow the events, then send what is due (tests call it directly too).
  Status RunOnce();

 private:
  Status Follow(const std::string& event_id);
  Status SendDue();
  Status Announce(const std::string& event_id, const std::string& kind,
                  const std::string& dedupe_prefix);

  PgPool& pool_;
  Store& store_;
  CatalogueClient& catalogue_;
  Notifier& notifier_;
  std::chrono::milliseconds poll_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace ecd::notifications
