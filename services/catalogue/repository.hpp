#pragma once
// The catalogue's storage: series, events with their agenda, materials, in schema `catalogue`.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.hpp"
#include "ecd/catalogue/v1/catalogue.pb.h"

namespace ecd {
class PgPool;
}

namespace ecd::catalogue {

namespace v1 = ::ecd::catalogue::v1;

struct EventFilter {
  std::string series_id;
  int region = 0;
  std::string language_code;
  int status = 0;
  std::optional<int64_t> start_from_micros;
  std::optional<int64_t> start_to_micros;
  bool include_drafts = false;
  std::string query;  // in the title or the description, case-insensitive
};

// Keyset position: the sort key of the last item returned.
struct Cursor {
  int64_t micros = 0;
  std::string id;
};

struct StoredMaterial {
  v1::Material material;
  std::string content;
};

class Repository {
 public:
  explicit Repository(PgPool& pool);

  // Inserts `series` under `id`. With a request id already used: the same series when
  // `request_hash` matches, FAILED_PRECONDITION (REQUEST_ID_REUSED) otherwise.
  StatusOr<v1::Series> CreateSeries(const v1::Series& series, const std::string& id,
                                    const std::string& request_id, const std::string& request_hash);
  StatusOr<v1::Series> GetSeries(const std::string& id);
  StatusOr<std::vector<v1::Series>> ListSeries(const std::optional<Cursor>& after, int limit);

  StatusOr<v1::Event> CreateEvent(const v1::Event& event, const std::string& id,
                                  const std::string& request_id, const std::string& request_hash);
  StatusOr<v1::Event> GetEvent(const std::string& id);
  StatusOr<std::vector<v1::Event>> ListEvents(const EventFilter& filter,
                                              const std::optional<Cursor>& after, int limit);
  // Reads the event under a row lock, lets `change` modify it (or refuse), writes it back with
  // its revision incremented, all in one transaction.
  StatusOr<v1::Event> UpdateEvent(const std::string& id,
                                  const std::function<Status(v1::Event&)>& change);

  StatusOr<v1::Material> AddMaterial(const std::string& event_id, const std::string& id,
                                     const v1::Material& material, const std::string& content);
  StatusOr<std::vector<v1::Material>> ListMaterials(const std::string& event_id);
  // Every material's metadata, by event id (each event's in create order).
  StatusOr<std::map<std::string, std::vector<v1::Material>>> AllMaterials();
  StatusOr<StoredMaterial> GetMaterial(const std::string& event_id, const std::string& id,
                                       bool with_content);
  // Deletes a draft: NOT_FOUND, or FAILED_PRECONDITION for an event that is no draft.
  Status DeleteDraft(const std::string& id);
  Status DeleteMaterial(const std::string& event_id, const std::string& id);

 private:
  PgPool& pool_;
};

}  // namespace ecd::catalogue
