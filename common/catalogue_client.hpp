#pragma once
// A service's view of the catalogue: GetEvent over gRPC with the `service` role,
// cached briefly (ECD_CATALOGUE_CACHE_MS) so that a burst of registrations asks once.
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.hpp"
#include "ecd/catalogue/v1/catalogue.pb.h"

namespace ecd {

class Env;

// An event as the catalogue answered it, shared by whoever read it (never changed after).
using EventPtr = std::shared_ptr<const catalogue::v1::Event>;

// What a service asks the catalogue: the interface its logic depends on, so that a unit test can
// put a fake behind it (CatalogueClient is the real one, over gRPC).
class CatalogueReader {
 public:
  virtual ~CatalogueReader() = default;
  // NOT_FOUND for an unknown event; UNAVAILABLE (CATALOGUE_UNAVAILABLE) when it cannot be asked.
  virtual StatusOr<catalogue::v1::Event> GetEvent(const std::string& event_id) = 0;
  // GetEvent without a copy of the answer where the reader keeps one (CatalogueClient's cache).
  virtual StatusOr<EventPtr> GetEventPtr(const std::string& event_id);
  // NOT_FOUND or UNAVAILABLE like GetEvent.
  virtual StatusOr<catalogue::v1::Series> GetSeries(const std::string& series_id) = 0;
  virtual StatusOr<std::vector<catalogue::v1::Material>> ListMaterials(
      const std::string& event_id) = 0;
  // Every event of a series, drafts included, in start order.
  virtual StatusOr<std::vector<catalogue::v1::Event>> EventsOfSeries(
      const std::string& series_id) = 0;
};

class CatalogueClient : public CatalogueReader {
 public:
  struct Options {
    std::string address = "127.0.0.1:50061";
    std::string token;  // role service
    std::chrono::milliseconds ttl{2000};
    bool tls = false;
    std::string tls_root_file;
    // ECD_CATALOGUE_ADDRESS, ECD_SERVICE_TOKEN(_FILE) (required), ECD_CATALOGUE_CACHE_MS,
    // ECD_CATALOGUE_TLS, ECD_CATALOGUE_CA_FILE.
    static Options Load(Env& env);
  };
  explicit CatalogueClient(const Options& options);
  ~CatalogueClient() override;
  // Cached for `ttl`.
  StatusOr<catalogue::v1::Event> GetEvent(const std::string& event_id) override;
  StatusOr<EventPtr> GetEventPtr(const std::string& event_id) override;
  // The others are not cached (rare).
  StatusOr<catalogue::v1::Series> GetSeries(const std::string& series_id) override;
  StatusOr<std::vector<catalogue::v1::Material>> ListMaterials(
      const std::string& event_id) override;
  StatusOr<std::vector<catalogue::v1::Event>> EventsOfSeries(const std::string& series_id) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string token_;
  std::chrono::milliseconds ttl_;
  std::mutex mu_;
  struct Entry {
    EventPtr event;
    std::chrono::steady_clock::time_point fetched;
  };
  std::map<std::string, Entry> cache_;
};

}  // namespace ecd
