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

class CatalogueClient {
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
  ~CatalogueClient();
  // NOT_FOUND for an unknown event; UNAVAILABLE (CATALOGUE_UNAVAILABLE) when it cannot be asked.
  StatusOr<catalogue::v1::Event> GetEvent(const std::string& event_id);
  // Not cached (rare). NOT_FOUND or UNAVAILABLE like GetEvent.
  StatusOr<catalogue::v1::Series> GetSeries(const std::string& series_id);
  StatusOr<std::vector<catalogue::v1::Material>> ListMaterials(const std::string& event_id);
  // Every event of a series, drafts included, in start order (not cached).
  StatusOr<std::vector<catalogue::v1::Event>> EventsOfSeries(const std::string& series_id);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string token_;
  std::chrono::milliseconds ttl_;
  std::mutex mu_;
  struct Entry {
    catalogue::v1::Event event;
    std::chrono::steady_clock::time_point fetched;
  };
  std::map<std::string, Entry> cache_;
};

}  // namespace ecd
