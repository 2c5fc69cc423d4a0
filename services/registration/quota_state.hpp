#pragma once
// One (event, country) counter as PostgreSQL holds it: what the repository returns after a
// change and what Redis keeps a copy of (quota_cache.hpp), so that neither depends on the other.
#include <cstdint>
#include <string>

namespace ecd::registration {

struct QuotaState {
  std::string event_id;
  std::string country;
  int limit = 0;
  int taken = 0;
  int waitlisted = 0;
  int64_t version = 0;
};

}  // namespace ecd::registration
