#include "services/notifications/planner.hpp"

#include <spdlog/spdlog.h>

#include <map>
#include <optional>
#include <set>

#include "common/crypto.hpp"
#include "common/pg.hpp"
#include "common/time.hpp"
#include "services/notifications/sql.hpp"

namespace ecd::notifications {
namespace {

namespace cat = ::ecd::catalogue::v1;

constexpr int64_t kHour = int64_t{3600} * 1000000;
constexpr int kSent = ::ecd::notifications::v1::MESSAGE_STATE_SENT;

std::string KitKeyPrefix(const std::string& event_id, int64_t start_micros) {
  return "info_kit:" + event_id + ":" + std::to_string(start_micros) + ":";
}

}  // namespace

bool Pointless(const std::string& kind, bool published, int64_t now_micros, int64_t start_micros) {
  return !published || now_micros >= start_micros ||
         (kind != "reminder_1h" && now_micros >= start_micros - kHour);
}

Planner::Planner(PgPool& pool, Store& store, CatalogueReader& catalogue, Notifier& notifier,
                 MaterialSource& materials, PlannerOptions options)
    : pool_(pool),
      store_(store),
      catalogue_(catalogue),
      notifier_(notifier),
      materials_(materials),
      options_(options),
      task_("planner", options_.poll, [this] {
        Status st = RunOnce();
        if (!st.ok()) spdlog::warn("planner: {}", st.ToString());
      }) {}

Planner::~Planner() { Stop(); }

Status Planner::RunOnce() {
  std::vector<std::string> events;
  ECD_RETURN_IF_ERROR(pool_.Read([&](pqxx::transaction_base& tx) -> Status {
    for (const auto& r : Exec(tx, sql::kFollowed)) events.push_back(r[0].as<std::string>());
    return Status::Ok();
  }));
  for (const auto& id : events) {
    Status st = Follow(id);
    if (!st.ok()) spdlog::warn("planner: event {}: {}", id, st.ToString());
  }
  Status due = SendDue();
  Status kits = FollowUpKits();
  return due.ok() ? kits : due;
}

Status Planner::Announce(const std::string& event_id, const std::string& kind,
                         const std::string& dedupe_prefix) {
  ECD_ASSIGN_OR_RETURN(auto people, store_.ConfirmedOf(event_id));
  if (people.empty()) return Status::Ok();
  ECD_ASSIGN_OR_RETURN(auto event, catalogue_.GetEvent(event_id));
  // The kit is planned once for everyone: its documents are fetched once.
  std::optional<KitPlan> kit;
  ComposeExtras extras;
  if (kind == "info_kit") {
    ECD_ASSIGN_OR_RETURN(auto materials, materials_.List(event_id));
    ECD_RETURN_IF_ERROR(materials_.Fetch(materials));
    kit = PlanKit(materials, materials_.options());
    extras.kit = &*kit;
  }
  std::vector<NewMessage> messages;
  for (const auto& p : people) {
    ECD_ASSIGN_OR_RETURN(
        auto m, notifier_.Compose(event, kind, p, dedupe_prefix + ":" + p.registration_id, extras));
    messages.push_back(std::move(m));
  }
  ECD_ASSIGN_OR_RETURN(auto queued, store_.Queue(messages));
  if (queued > 0) spdlog::info("planner: {} {} message(s) for event {}", queued, kind, event_id);
  return Status::Ok();
}

Status Planner::Follow(const std::string& event_id) {
  ECD_ASSIGN_OR_RETURN(auto event, catalogue_.GetEvent(event_id));
  const int64_t start = Micros(event.start_time()), end = Micros(event.end_time());
  struct Seen {
    int64_t revision, start, end;
    int status, recording;
  };
  std::optional<Seen> seen;
  ECD_RETURN_IF_ERROR(pool_.Read([&](pqxx::transaction_base& tx) -> Status {
    auto rows = Exec(tx, sql::kWatched, event_id);
    if (!rows.empty()) {
      const auto& r = rows[0];
      seen = Seen{r[0].as<int64_t>(), r[1].as<int64_t>(), r[2].as<int64_t>(), r[3].as<int>(),
                  r[4].as<int>()};
    }
    return Status::Ok();
  }));
  if (seen && seen->revision == event.revision()) return Status::Ok();
  const bool cancelled = event.status() == cat::EVENT_STATUS_CANCELLED;
  // Messages first: each has a dedupe key, so a crash before the row below is saved only makes
  // the next pass find (and skip) them again.
  if (seen) {
    const bool moved = seen->start != start || seen->end != end;
    if (cancelled && seen->status != cat::EVENT_STATUS_CANCELLED) {
      ECD_RETURN_IF_ERROR(Announce(event_id, "event_cancelled", "event_cancelled:" + event_id));
    } else if (moved && !cancelled) {
      ECD_RETURN_IF_ERROR(
          Announce(event_id, "event_changed",
                   "event_changed:" + event_id + ":" + std::to_string(event.revision())));
    }
    if (event.recording().state() == cat::RECORDING_STATE_PUBLISHED &&
        seen->recording != cat::RECORDING_STATE_PUBLISHED) {
      ECD_RETURN_IF_ERROR(
          Announce(event_id, "recording_published", "recording_published:" + event_id));
    }
  }
  return pool_.Transact([&](pqxx::work& tx) -> Status {
    if (cancelled) {
      Exec(tx, sql::kCloseSchedules, event_id);
    } else {
      Exec(tx, sql::kPlanSchedule, event_id, "info_kit",
           start - int64_t{event.info_kit_lead_hours()} * kHour);
      Exec(tx, sql::kPlanSchedule, event_id, "reminder_24h", start - 24 * kHour);
      Exec(tx, sql::kPlanSchedule, event_id, "reminder_1h", start - kHour);
    }
    Exec(tx, sql::kSaveWatched, event_id, event.revision(), start, end,
         static_cast<int>(event.status()), static_cast<int>(event.recording().state()));
    return Status::Ok();
  });
}

Status Planner::SendDue() {
  struct Due {
    std::string event_id, kind;
    int64_t due, start, now;
    bool published;
  };
  std::vector<Due> due;
  ECD_RETURN_IF_ERROR(pool_.Transact([&](pqxx::work& tx) -> Status {
    due.clear();
    for (const auto& r : Exec(tx, sql::kClaimDue, options_.lease.count())) {
      due.push_back(Due{r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<int64_t>(),
                        r[3].as<int64_t>(), r[5].as<int64_t>(),
                        r[4].as<int>() == cat::EVENT_STATUS_PUBLISHED});
    }
    return Status::Ok();
  }));
  Status result;
  for (const auto& d : due) {
    const bool pointless = Pointless(d.kind, d.published, d.now, d.start);
    Status st;
    if (!pointless) {
      // The start time is part of the key: after a move the new reminder is a new message.
      st = Announce(d.event_id, d.kind, d.kind + ":" + d.event_id + ":" + std::to_string(d.start));
    }
    Status recorded = pool_.Transact([&](pqxx::work& tx) -> Status {
      if (st.ok()) {
        Exec(tx, sql::kScheduleDone, d.event_id, d.kind, d.due);
      } else {
        Exec(tx, sql::kScheduleRelease, d.event_id, d.kind);  // tried again at the next pass
      }
      return Status::Ok();
    });
    if (!st.ok()) {
      spdlog::warn("planner: {} of event {}: {}", d.kind, d.event_id, st.ToString());
      result = st;
    }
    if (!recorded.ok()) result = recorded;
  }
  return result;
}

Status Planner::FollowUpKits() {
  std::vector<std::pair<std::string, int64_t>> events;
  ECD_RETURN_IF_ERROR(pool_.Transact([&](pqxx::work& tx) -> Status {
    events.clear();
    for (const auto& r : Exec(tx, sql::kClaimKitFollowUps, options_.lease.count(),
                              static_cast<int>(cat::EVENT_STATUS_PUBLISHED))) {
      events.emplace_back(r[0].as<std::string>(), r[1].as<int64_t>());
    }
    return Status::Ok();
  }));
  Status result;
  for (const auto& [event_id, start] : events) {
    Status st = FollowUpKit(event_id, start);
    if (!st.ok()) {
      spdlog::warn("planner: kit follow-up of event {}: {}", event_id, st.ToString());
      result = st;
    }
    Status released = pool_.Transact([&, &id = event_id](pqxx::work& tx) -> Status {
      Exec(tx, sql::kScheduleRelease, id, "info_kit");
      return Status::Ok();
    });
    if (!released.ok()) result = released;
  }
  return result;
}

Status Planner::FollowUpKit(const std::string& event_id, int64_t start) {
  const std::string kit_prefix = KitKeyPrefix(event_id, start);
  ECD_ASSIGN_OR_RETURN(auto recipients, store_.KitRecipients(event_id));
  if (recipients.empty()) return Status::Ok();
  ECD_ASSIGN_OR_RETURN(auto materials, materials_.List(event_id));

  // Who lacks the kit, and what is new to each of those who received it.
  std::set<std::string> lacking;                     // registrations without a kit
  std::map<std::string, std::vector<size_t>> fresh;  // registration -> indexes in materials
  for (const auto& r : recipients) {
    if (r.kit_state == 0) {
      lacking.insert(r.registration_id);
      continue;
    }
    if (r.kit_state != kSent) continue;  // not received yet (or never will be)
    std::set<std::pair<std::string, std::string>> given;
    bool exact = false;
    for (const auto& item : r.items) {
      given.emplace(item.material, item.version);
      exact = exact || item.material == kKitMarker;
    }
    for (size_t i = 0; i < materials.size(); ++i) {
      const auto& m = (materials)[i];
      const bool is_new =
          given.count({m.name, m.version()}) == 0 && (exact || m.create_micros > r.kit_micros);
      if (is_new) fresh[r.registration_id].push_back(i);
    }
  }
  const bool late = !lacking.empty();
  if (!late && fresh.empty()) return Status::Ok();

  std::set<std::string> wanted;
  for (const auto& [reg, indexes] : fresh) {
    for (size_t i : indexes) wanted.insert((materials)[i].name);
  }
  ECD_RETURN_IF_ERROR(materials_.Fetch(
      materials, [&](const KitMaterial& m) { return late || wanted.count(m.name) > 0; }));
  ECD_ASSIGN_OR_RETURN(auto event, catalogue_.GetEvent(event_id));
  ECD_ASSIGN_OR_RETURN(auto people, store_.ConfirmedOf(event_id));

  std::vector<NewMessage> messages;
  const KitPlan whole = PlanKit(materials, materials_.options());
  for (const auto& p : people) {
    ComposeExtras extras;
    std::string kind, key;
    KitPlan update;
    const auto it = fresh.find(p.registration_id);
    if (lacking.count(p.registration_id) > 0) {
      kind = "info_kit";
      key = kit_prefix + p.registration_id;
      extras.kit = &whole;
    } else if (it != fresh.end()) {
      std::vector<KitMaterial> subset;
      std::string versions;
      for (size_t i : it->second) {
        subset.push_back((materials)[i]);
        versions += (materials)[i].name + "@" + (materials)[i].version() + "\n";
      }
      update = PlanKit(subset, materials_.options());
      kind = "info_kit_update";
      // The same new documents make the same update, however often this runs.
      key = "info_kit_update:" + event_id + ":" + p.registration_id + ":" +
            Sha256Hex(versions).substr(0, 32);
      extras.kit = &update;
    } else {
      continue;
    }
    ECD_ASSIGN_OR_RETURN(auto m, notifier_.Compose(event, kind, p, key, extras));
    messages.push_back(std::move(m));
  }
  ECD_ASSIGN_OR_RETURN(auto queued, store_.Queue(messages));
  if (queued > 0) {
    spdlog::info("planner: {} late kit(s) and kit update(s) for event {}", queued, event_id);
  }
  return Status::Ok();
}

}  // namespace ecd::notifications
