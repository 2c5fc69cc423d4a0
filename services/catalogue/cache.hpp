#pragma once
// The catalogue's reads from memory. Each replica keeps every series, event (drafts too) and
// material's metadata in memory while it is synchronised with PostgreSQL: a full load when its
// listening connection is made (or made again), then one item reloaded per change announced on
// channel ecd_catalogue (triggers of migration 003, so a change made anywhere is announced) and
// per change this replica writes itself (read-your-writes, before the writer's call returns).
// While it is not synchronised (the listener is down, a reload failed) every read goes to the
// repository, so answers are never older than the database's; health shows the state as
// "catalogue_cache". Role filtering stays with the caller (catalogue.cpp): this holds events as
// stored, join URLs and drafts included.
//
// Reads take a snapshot (a shared pointer, under a short lock) and never wait for a reload;
// reloads are serialised and replace the snapshot, copy on write (the catalogue changes a few
// times a day and holds hundreds of events).
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.hpp"
#include "services/catalogue/repository.hpp"

namespace ecd::catalogue {

class EventCache {
 public:
  explicit EventCache(Repository& repo);
  ~EventCache();

  // The reads, with the repository's meaning (order, keyset paging, NOT_FOUND). A filter with a
  // text query is answered by the repository (PostgreSQL's case-insensitive matching).
  // Events are shared, read-only, each with its wire form for both audiences: a privileged
  // caller's (everything) and everyone else's (no join URL), so that an answer is built by copying
  // bytes rather than messages.
  struct CachedEvent {
    explicit CachedEvent(v1::Event e);
    v1::Event event;
    std::string full;     // event, serialised
    std::string visible;  // event without its join URL, serialised
  };
  using EventPtr = std::shared_ptr<const CachedEvent>;
  StatusOr<EventPtr> GetEvent(const std::string& id);
  StatusOr<std::vector<EventPtr>> ListEvents(const EventFilter& filter,
                                             const std::optional<Cursor>& after, int limit);
  StatusOr<v1::Series> GetSeries(const std::string& id);
  StatusOr<std::vector<v1::Series>> ListSeries(const std::optional<Cursor>& after, int limit);
  StatusOr<std::vector<v1::Material>> ListMaterials(const std::string& event_id);

  // Loads everything and serves from memory from then on (the listener has just connected).
  Status Resync();
  // Serves from the repository until the next Resync (the listener lost its connection).
  void Forget();
  // Reloads what `change` names ("series:<id>", "event:<id>", "materials:<event id>"); anything
  // else, or a failed reload, drops the copy (reads go to the repository until a Resync).
  void Changed(const std::string& change);
  bool synchronised() const;

 private:
  struct Snapshot;
  std::shared_ptr<const Snapshot> Current() const;
  void Install(std::shared_ptr<const Snapshot> next);

  Repository& repo_;
  mutable std::mutex mu_;                 // guards snap_
  std::shared_ptr<const Snapshot> snap_;  // null: not synchronised
  std::mutex reload_mu_;                  // one reload at a time, each reading after the last
};

}  // namespace ecd::catalogue
