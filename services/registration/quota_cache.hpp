#pragma once
// Redis's copy of the quota counters: it answers availability reads fast, but never decides:
// PostgreSQL's figures are written here after each change, and only when newer than what Redis
// holds (so replicas writing out of order cannot go back in time). Missing, stale or flushed
// entries are rebuilt from PostgreSQL by the caller; with Redis down every read answers UNAVAILABLE
// and the caller reads PostgreSQL.
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/redis.hpp"
#include "services/registration/quota_state.hpp"

namespace ecd::registration {

class QuotaCache {
 public:
  QuotaCache(RedisPool& redis, std::chrono::milliseconds ttl);
  ~QuotaCache();

  // Best effort and off the request path: queued for a writer thread, which keeps only the
  // newest figures per counter. A failure is logged, never returned.
  void Store(const QuotaState& quota);
  // The counters Redis has for these countries (absent ones are missing from the map).
  StatusOr<std::map<std::string, QuotaState>> Load(const std::string& event_id,
                                                   const std::vector<std::string>& countries);
  static std::string Key(const std::string& event_id, const std::string& country);

 private:
  void Write(const std::map<std::string, QuotaState>& batch);
  void WriterLoop();

  RedisPool& redis_;
  std::chrono::milliseconds ttl_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, QuotaState> queued_;  // by key, the newest version
  bool writing_ = false;
  bool stopping_ = false;
  std::thread writer_;
};

}  // namespace ecd::registration
