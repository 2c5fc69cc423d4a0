#pragma once
// Redis's copy of the quota counters: it answers availability reads and the "is there a seat?"
// pre-check fast, but never decides: PostgreSQL's figures are written here after each change, and
// only when newer than what Redis holds (so replicas writing out of order cannot go back in
// time). Missing, stale or flushed entries are rebuilt from PostgreSQL by the caller; with Redis
// down every read answers UNAVAILABLE and the caller reads PostgreSQL.
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/redis.hpp"
#include "services/registration/repository.hpp"

namespace ecd::registration {

class QuotaCache {
 public:
  QuotaCache(RedisPool& redis, std::chrono::milliseconds ttl);

  // Best effort: a failure is logged, never returned.
  void Store(const QuotaState& quota);
  // Whether the country still has a seat; nullopt when Redis does not know.
  std::optional<bool> HasSeat(const std::string& event_id, const std::string& country);
  // The counters Redis has for these countries (absent ones are missing from the map).
  StatusOr<std::map<std::string, QuotaState>> Load(const std::string& event_id,
                                                   const std::vector<std::string>& countries);
  static std::string Key(const std::string& event_id, const std::string& country);

 private:
  RedisPool& redis_;
  std::chrono::milliseconds ttl_;
};

}  // namespace ecd::registration
