#pragma once
// The registration service's view of the catalogue: GetEvent over gRPC with the `service` role,
// cached briefly (ECD_CATALOGUE_CACHE_MS) so that a burst of registrations asks once.
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/status.hpp"
#include "ecd/catalogue/v1/catalogue.pb.h"

namespace ecd::registration {

class CatalogueClient {
 public:
  CatalogueClient(const std::string& address, std::string token, std::chrono::milliseconds ttl,
                  bool tls = false, const std::string& tls_root_file = "");
  ~CatalogueClient();
  // NOT_FOUND for an unknown event; UNAVAILABLE (CATALOGUE_UNAVAILABLE) when it cannot be asked.
  StatusOr<catalogue::v1::Event> GetEvent(const std::string& event_id);

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

}  // namespace ecd::registration
