#include "services/notifications/planner.hpp"

#include <spdlog/spdlog.h>

#include "common/pg.hpp"

namespace ecd::notifications {
namespace {

namespace cat = ::ecd::catalogue::v1;

#define ECD_MICROS(col) "(extract(epoch from " col ") * 1000000)::bigint"
#define ECD_TS(param) "('epoch'::timestamptz + " param "::bigint * interval '1 microsecond')"

constexpr SqlStatement kFollowed = {
    "followed_events",
    "SELECT DISTINCT event_id::text FROM notifications.participants WHERE status = 1"
    " AND NOT erased"};
constexpr SqlStatement kWatched = {
    "watched_event",
    "SELECT revision, " ECD_MICROS("start_time") ", " ECD_MICROS("end_time")
    ", status, recording_state FROM notifications.watched_events WHERE event_id = $1"};
constexpr SqlStatement kSaveWatched = {
    "save_watched",
    "INSERT INTO notifications.watched_events (event_id, revision, start_time, end_time, status,"
    " recording_state) VALUES ($1, $2, " ECD_TS("$3") ", " ECD_TS("$4") ", $5, $6)"
    " ON CONFLICT (event_id) DO UPDATE SET revision = EXCLUDED.revision,"
    " start_time = EXCLUDED.start_time, end_time = EXCLUDED.end_time, status = EXCLUDED.status,"
    " recording_state = EXCLUDED.recording_state, checked_time = now()"};
// A schedule whose time changed is sent again (unless its new time has already passed).
constexpr SqlStatement kPlan = {
    "plan_schedule",
    "INSERT INTO notifications.schedules AS s (event_id, kind, due_time) VALUES ($1, $2, " ECD_TS(
        "$3") ") ON CONFLICT (event_id, kind) DO UPDATE SET due_time = EXCLUDED.due_time,"
              " done_time = CASE WHEN s.due_time <> EXCLUDED.due_time AND EXCLUDED.due_time >"
              " now() THEN NULL ELSE s.done_time END"};
constexpr SqlStatement kCloseSchedules = {
    "close_schedules",
    "UPDATE notifications.schedules SET done_time = coalesce(done_time, now())"
    " WHERE event_id = $1"};
constexpr SqlStatement kClaimDue = {
    "claim_due",
    "SELECT s.event_id::text, s.kind, " ECD_MICROS("w.start_time") ", w.status,"
    " (extract(epoch from now()) * 1000000)::bigint FROM notifications.schedules s"
    " JOIN notifications.watched_events w USING (event_id) WHERE s.done_time IS NULL"
    " AND s.due_time <= now() ORDER BY s.due_time LIMIT 20 FOR UPDATE OF s SKIP LOCKED"};
constexpr SqlStatement kDone = {
    "schedule_done",
    "UPDATE notifications.schedules SET done_time = now() WHERE event_id = $1 AND kind = $2"};

#undef ECD_MICROS
#undef ECD_TS

constexpr int64_t kHour = int64_t{3600} * 1000000;

int64_t Micros(const google::protobuf::Timestamp& t) {
  return t.seconds() * 1000000 + t.nanos() / 1000;
}

}  // namespace

Planner::Planner(PgPool& pool, Store& store, CatalogueClient& catalogue, Notifier& notifier,
                 std::chrono::milliseconds poll)
    : pool_(pool), store_(store), catalogue_(catalogue), notifier_(notifier), poll_(poll) {}

Planner::~Planner() { Stop(); }

void Planner::Start() {
  thread_ = std::thread([this] {
    while (!stopping_) {
      Status st = RunOnce();
      if (!st.ok()) spdlog::warn("planner: {}", st.ToString());
      for (auto waited = std::chrono::milliseconds(0); waited < poll_ && !stopping_;
           waited += std::chrono::milliseconds(50)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
  });
}

void Planner::Stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

Status Planner::RunOnce() {
  std::vector<std::string> events;
  ECD_RETURN_IF_ERROR(pool_.Read([&](pqxx::transaction_base& tx) -> Status {
    for (const auto& r : Exec(tx, kFollowed)) events.push_back(r[0].as<std::string>());
    return Status::Ok();
  }));
  for (const auto& id : events) {
    Status st = Follow(id);
    if (!st.ok()) spdlog::warn("planner: event {}: {}", id, st.ToString());
  }
  return SendDue();
}

Status Planner::Announce(const std::string& event_id, const std::string& kind,
                         const std::string& dedupe_prefix) {
  auto people = store_.ConfirmedOf(event_id);
  if (!people.ok()) return people.status();
  std::vector<NewMessage> messages;
  for (const auto& p : *people) {
    auto m = notifier_.Compose(kind, p, dedupe_prefix + ":" + p.registration_id, 0, "");
    if (!m.ok()) return m.status();
    messages.push_back(std::move(*m));
  }
  auto queued = store_.Queue(messages);
  if (!queued.ok()) return queued.status();
  if (*queued > 0) spdlog::info("planner: {} {} message(s) for event {}", *queued, kind, event_id);
  return Status::Ok();
}

Status Planner::Follow(const std::string& event_id) {
  auto event = catalogue_.GetEvent(event_id);
  if (!event.ok()) return event.status();
  const int64_t start = Micros(event->start_time()), end = Micros(event->end_time());
  struct Seen {
    int64_t revision, start, end;
    int status, recording;
  };
  std::optional<Seen> seen;
  ECD_RETURN_IF_ERROR(pool_.Read([&](pqxx::transaction_base& tx) -> Status {
    auto rows = Exec(tx, kWatched, event_id);
    if (!rows.empty()) {
      const auto& r = rows[0];
      seen = Seen{r[0].as<int64_t>(), r[1].as<int64_t>(), r[2].as<int64_t>(), r[3].as<int>(),
                  r[4].as<int>()};
    }
    return Status::Ok();
  }));
  if (seen && seen->revision == event->revision()) return Status::Ok();
  const bool cancelled = event->status() == cat::EVENT_STATUS_CANCELLED;
  // Messages first: each has a dedupe key, so a crash before the row below is saved only makes
  // the next pass find (and skip) them again.
  if (seen) {
    const bool moved = seen->start != start || seen->end != end;
    if (cancelled && seen->status != cat::EVENT_STATUS_CANCELLED) {
      ECD_RETURN_IF_ERROR(Announce(event_id, "event_cancelled", "event_cancelled:" + event_id));
    } else if (moved && !cancelled) {
      ECD_RETURN_IF_ERROR(
          Announce(event_id, "event_changed",
                   "event_changed:" + event_id + ":" + std::to_string(event->revision())));
    }
    if (event->recording().state() == cat::RECORDING_STATE_PUBLISHED &&
        seen->recording != cat::RECORDING_STATE_PUBLISHED) {
      ECD_RETURN_IF_ERROR(
          Announce(event_id, "recording_published", "recording_published:" + event_id));
    }
  }
  return pool_.Transact([&](pqxx::work& tx) -> Status {
    if (cancelled) {
      Exec(tx, kCloseSchedules, event_id);
    } else {
      Exec(tx, kPlan, event_id, "info_kit", start - int64_t{event->info_kit_lead_hours()} * kHour);
      Exec(tx, kPlan, event_id, "reminder_24h", start - 24 * kHour);
      Exec(tx, kPlan, event_id, "reminder_1h", start - kHour);
    }
    Exec(tx, kSaveWatched, event_id, event->revision(), start, end,
         static_cast<int>(event->status()), static_cast<int>(event->recording().state()));
    return Status::Ok();
  });
}

Status Planner::SendDue() {
  return pool_.Transact([&](pqxx::work& tx) -> Status {
    for (const auto& r : Exec(tx, kClaimDue)) {
      const std::string event_id = r[0].as<std::string>(), kind = r[1].as<std::string>();
      const int64_t start = r[2].as<int64_t>(), now = r[4].as<int64_t>();
      const bool published = r[3].as<int>() == cat::EVENT_STATUS_PUBLISHED;
      // Too late, or superseded by the 1-hour reminder: closed without sending.
      const bool pointless =
          !published || now >= start || (kind != "reminder_1h" && now >= start - kHour);
      if (!pointless) {
        // The start time is part of the key: after a move the new reminder is a new message.
        ECD_RETURN_IF_ERROR(
            Announce(event_id, kind, kind + ":" + event_id + ":" + std::to_string(start)));
      }
      Exec(tx, kDone, event_id, kind);
    }
    return Status::Ok();
  });
}

}  // namespace ecd::notifications
