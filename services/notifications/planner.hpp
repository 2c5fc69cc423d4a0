#pragma once
// Plans what is sent relative to an event's start, from the catalogue's data: the information
// kit (the event's lead time before the start), and reminders 24 hours and 1 hour before. It
// follows every event that has confirmed participants: when an event moves, its schedules are
// re-planned and participants get an updated invitation (event_changed, a higher SEQUENCE);
// when it is cancelled they are told (event_cancelled); when its recording is published, too.
//
// Once an event's kit has gone out, until an hour before the start, the planner also sends the
// kit to participants confirmed since (a late kit), and each material added or replaced since a
// participant received the kit to them once (info_kit_update).
//
// Schedules are claimed for a lease (FOR UPDATE SKIP LOCKED, committed at once), then worked on
// outside any transaction (the catalogue is called), then recorded; every message has a dedupe
// key, so any number of replicas send each once.
#include <chrono>

#include "common/catalogue_client.hpp"
#include "common/periodic_task.hpp"
#include "services/notifications/kit.hpp"
#include "services/notifications/notifier.hpp"
#include "services/notifications/store.hpp"

namespace ecd {
class PgPool;
}

namespace ecd::notifications {

// Whether a schedule that came due is closed without sending: the event is no longer published,
// it has started, or (the kit, the 24-hour reminder) the 1-hour reminder supersedes it.
bool Pointless(const std::string& kind, bool published, int64_t now_micros, int64_t start_micros);

struct PlannerOptions {
  std::chrono::milliseconds poll{30000};
  std::chrono::milliseconds lease{10000};  // how long a claimed schedule is held
};

class Planner {
 public:
  Planner(PgPool& pool, Store& store, CatalogueReader& catalogue, Notifier& notifier,
          MaterialSource& materials, PlannerOptions options);
  ~Planner();
  // The first pass at once, then one every `poll`.
  void Start() {
    task_.Start();
    task_.Wake();
  }
  void Stop() { task_.Stop(); }
  // One pass: follow the events, send what is due, follow up the kits (tests call it too).
  Status RunOnce();

 private:
  Status Follow(const std::string& event_id);
  Status SendDue();
  Status FollowUpKits();
  Status FollowUpKit(const std::string& event_id, int64_t start_micros);
  Status Announce(const std::string& event_id, const std::string& kind,
                  const std::string& dedupe_prefix);

  PgPool& pool_;
  Store& store_;
  CatalogueReader& catalogue_;
  Notifier& notifier_;
  MaterialSource& materials_;
  PlannerOptions options_;
  PeriodicTask task_;
};

}  // namespace ecd::notifications
