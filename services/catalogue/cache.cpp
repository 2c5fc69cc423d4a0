#include "services/catalogue/cache.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <climits>
#include <tuple>

#include "common/metrics.hpp"
#include "common/resource_name.hpp"
#include "common/time.hpp"

namespace ecd::catalogue {

namespace {

using EventPtr = EventCache::EventPtr;
using SeriesPtr = std::shared_ptr<const v1::Series>;

// The sort keys of the repository's keyset paging: (start_time, id) and (create_time, id); ids
// are canonical lowercase UUIDs, whose text order is PostgreSQL's uuid order.
std::tuple<int64_t, const std::string&> EventKey(const EventPtr& e, const std::string& id) {
  return {Micros(e->event.start_time()), id};
}

GaugeHandle SynchronisedGauge() {
  static GaugeHandle g = Gauge("ecd_catalogue_cache_synchronised",
                               "1 while reads are answered from memory, 0 while they go to "
                               "PostgreSQL.");
  return g;
}

CounterHandle Reloads(const std::string& what) {
  return Counter("ecd_catalogue_cache_reloads_total",
                 "Items reloaded into the in-memory catalogue, by kind (full = everything).",
                 {{"kind", what}});
}

}  // namespace

EventCache::CachedEvent::CachedEvent(v1::Event e) : event(std::move(e)) {
  full = event.SerializeAsString();
  if (event.join_url().empty()) {
    visible = full;
  } else {
    v1::Event hidden = event;
    hidden.clear_join_url();
    visible = hidden.SerializeAsString();
  }
}

struct EventCache::Snapshot {
  struct Entry {
    std::string id;
    EventPtr event;
  };
  std::map<std::string, EventPtr> events;                      // by id
  std::vector<Entry> by_start;                                 // by (start micros, id)
  std::map<std::string, SeriesPtr> series;                     // by id
  std::vector<std::pair<std::string, SeriesPtr>> by_create;    // by (create micros, id)
  std::map<std::string, std::vector<v1::Material>> materials;  // by event id

  void Index() {
    by_start.clear();
    by_start.reserve(events.size());
    for (const auto& [id, e] : events) by_start.push_back({id, e});
    std::sort(by_start.begin(), by_start.end(), [](const Entry& a, const Entry& b) {
      return EventKey(a.event, a.id) < EventKey(b.event, b.id);
    });
    by_create.clear();
    by_create.reserve(series.size());
    for (const auto& [id, s] : series) by_create.emplace_back(id, s);
    std::sort(by_create.begin(), by_create.end(), [](const auto& a, const auto& b) {
      return std::make_tuple(Micros(a.second->create_time()), std::cref(a.first)) <
             std::make_tuple(Micros(b.second->create_time()), std::cref(b.first));
    });
  }
};

EventCache::EventCache(Repository& repo) : repo_(repo) { SynchronisedGauge().Set(0); }

EventCache::~EventCache() = default;

std::shared_ptr<const EventCache::Snapshot> EventCache::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return snap_;
}

void EventCache::Install(std::shared_ptr<const Snapshot> next) {
  const bool on = next != nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    snap_ = std::move(next);
  }
  SynchronisedGauge().Set(on ? 1 : 0);
}

bool EventCache::synchronised() const { return Current() != nullptr; }

StatusOr<EventCache::EventPtr> EventCache::GetEvent(const std::string& id) {
  auto snap = Current();
  if (!snap) {
    ECD_ASSIGN_OR_RETURN(v1::Event e, repo_.GetEvent(id));
    return std::make_shared<const CachedEvent>(std::move(e));
  }
  auto it = snap->events.find(id);
  if (it == snap->events.end()) return Status::NotFound("events/" + id);
  return it->second;
}

StatusOr<std::vector<EventCache::EventPtr>> EventCache::ListEvents(
    const EventFilter& f, const std::optional<Cursor>& after, int limit) {
  std::vector<EventPtr> out;
  auto snap = Current();
  if (!snap || !f.query.empty()) {
    ECD_ASSIGN_OR_RETURN(std::vector<v1::Event> rows, repo_.ListEvents(f, after, limit));
    out.reserve(rows.size());
    for (auto& e : rows) out.push_back(std::make_shared<const CachedEvent>(std::move(e)));
    return out;
  }
  auto it = snap->by_start.begin();
  if (after) {
    it = std::upper_bound(snap->by_start.begin(), snap->by_start.end(), *after,
                          [](const Cursor& c, const Snapshot::Entry& e) {
                            return std::make_tuple(c.micros, std::cref(c.id)) <
                                   EventKey(e.event, e.id);
                          });
  }
  for (; it != snap->by_start.end() && static_cast<int>(out.size()) < limit; ++it) {
    const v1::Event& e = it->event->event;
    const int64_t start = Micros(e.start_time());
    if (!f.series_id.empty() && IdOf(e.series()) != f.series_id) continue;
    if (f.region != 0 && e.region() != f.region) continue;
    if (!f.language_code.empty() && e.language_code() != f.language_code) continue;
    if (f.status != 0 && e.status() != f.status) continue;
    if (f.start_from_micros && start < *f.start_from_micros) continue;
    if (f.start_to_micros && start >= *f.start_to_micros) continue;
    if (!f.include_drafts && e.status() == v1::EVENT_STATUS_DRAFT) continue;
    out.push_back(it->event);
  }
  return out;
}

StatusOr<v1::Series> EventCache::GetSeries(const std::string& id) {
  auto snap = Current();
  if (!snap) return repo_.GetSeries(id);
  auto it = snap->series.find(id);
  if (it == snap->series.end()) return Status::NotFound("series/" + id);
  return *it->second;
}

StatusOr<std::vector<v1::Series>> EventCache::ListSeries(const std::optional<Cursor>& after,
                                                         int limit) {
  auto snap = Current();
  if (!snap) return repo_.ListSeries(after, limit);
  std::vector<v1::Series> out;
  for (const auto& [id, s] : snap->by_create) {
    if (static_cast<int>(out.size()) >= limit) break;
    if (after && std::make_tuple(Micros(s->create_time()), std::cref(id)) <=
                     std::make_tuple(after->micros, std::cref(after->id))) {
      continue;
    }
    out.push_back(*s);
  }
  return out;
}

StatusOr<std::vector<v1::Material>> EventCache::ListMaterials(const std::string& event_id) {
  auto snap = Current();
  if (!snap) return repo_.ListMaterials(event_id);
  auto it = snap->materials.find(event_id);
  if (it == snap->materials.end()) return std::vector<v1::Material>();
  return it->second;
}

Status EventCache::Resync() {
  std::lock_guard<std::mutex> reload(reload_mu_);
  auto next = std::make_shared<Snapshot>();
  EventFilter all;
  all.include_drafts = true;
  auto events = repo_.ListEvents(all, std::nullopt, INT_MAX);
  auto series = repo_.ListSeries(std::nullopt, INT_MAX);
  auto materials = repo_.AllMaterials();
  for (const Status& st : {events.status(), series.status(), materials.status()}) {
    if (!st.ok()) {
      Install(nullptr);
      return st;
    }
  }
  for (auto& e : *events) {
    std::string id = IdOf(e.name());
    next->events.emplace(std::move(id), std::make_shared<const CachedEvent>(std::move(e)));
  }
  for (auto& s : *series) {
    std::string id = IdOf(s.name());
    next->series.emplace(std::move(id), std::make_shared<const v1::Series>(std::move(s)));
  }
  next->materials = std::move(*materials);
  next->Index();
  spdlog::info("catalogue cache: {} event(s), {} series in memory", next->events.size(),
               next->series.size());
  Install(std::move(next));
  Reloads("full").Inc();
  return Status::Ok();
}

void EventCache::Forget() {
  std::lock_guard<std::mutex> reload(reload_mu_);
  Install(nullptr);
}

void EventCache::Changed(const std::string& change) {
  std::lock_guard<std::mutex> reload(reload_mu_);
  auto current = Current();
  if (!current) return;  // reads go to the repository already
  const size_t colon = change.find(':');
  const std::string kind = change.substr(0, colon == std::string::npos ? 0 : colon);
  const std::string id = colon == std::string::npos ? "" : change.substr(colon + 1);
  auto next = std::make_shared<Snapshot>(*current);
  Status failed = Status::Ok();
  if (kind == "event" && !id.empty()) {
    auto e = repo_.GetEvent(id);
    if (e.ok()) {
      next->events[id] = std::make_shared<const CachedEvent>(std::move(*e));
    } else if (e.status().code() == Code::kNotFound) {
      next->events.erase(id);
      next->materials.erase(id);  // deleted with it
    } else {
      failed = e.status();
    }
  } else if (kind == "series" && !id.empty()) {
    auto s = repo_.GetSeries(id);
    if (s.ok()) {
      next->series[id] = std::make_shared<const v1::Series>(std::move(*s));
    } else if (s.status().code() == Code::kNotFound) {
      next->series.erase(id);
    } else {
      failed = s.status();
    }
  } else if (kind == "materials" && !id.empty()) {
    auto m = repo_.ListMaterials(id);
    if (m.ok()) {
      if (m->empty()) {
        next->materials.erase(id);
      } else {
        next->materials[id] = std::move(*m);
      }
    } else {
      failed = m.status();
    }
  } else {
    failed = Status::InvalidArgument("change", "unknown change '" + change + "'");
  }
  if (!failed.ok()) {
    spdlog::warn(
        "catalogue cache: reloading {} failed ({}): reads go to PostgreSQL until the "
        "next full load",
        change, failed.ToString());
    Install(nullptr);
    return;
  }
  next->Index();
  Install(std::move(next));
  Reloads(kind).Inc();
}

}  // namespace ecd::catalogue
