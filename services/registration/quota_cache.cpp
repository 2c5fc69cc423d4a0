#include "services/registration/quota_cache.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/thread_name.hpp"

namespace ecd::registration {
namespace {

const LuaScript kStore(R"lua(
local v = tonumber(redis.call('HGET', KEYS[1], 'v') or '-1')
if tonumber(ARGV[1]) > v then
  redis.call('HSET', KEYS[1], 'v', ARGV[1], 'l', ARGV[2], 't', ARGV[3], 'w', ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  return 1
end
return 0
)lua");

const LuaScript kLoad(R"lua(
local out = {}
for i, k in ipairs(KEYS) do
  local h = redis.call('HMGET', k, 'v', 'l', 't', 'w')
  if h[1] and h[2] and h[3] and h[4] then
    out[i] = {h[1], h[2], h[3], h[4]}
  else
    out[i] = {}
  end
end
return out
)lua");

}  // namespace

QuotaCache::QuotaCache(RedisPool& redis, std::chrono::milliseconds ttl)
    : redis_(redis), ttl_(ttl), writer_([this] {
        NameThisThread("quota writer");
        WriterLoop();
      }) {}

QuotaCache::~QuotaCache() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  writer_.join();
}

std::string QuotaCache::Key(const std::string& event_id, const std::string& country) {
  // The hash tag keeps an event's counters in one slot, should Redis become a cluster.
  return "quota:{" + event_id + "}:" + country;
}

void QuotaCache::Store(const QuotaState& q) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto [it, fresh] = queued_.emplace(Key(q.event_id, q.country), q);
    if (!fresh && it->second.version < q.version) it->second = q;
    if (queued_.size() > 100000) queued_.clear();  // Redis is far behind: let it be rebuilt
  }
  cv_.notify_all();
}

void QuotaCache::WriterLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !queued_.empty(); });
    if (queued_.empty() && stopping_) return;
    std::map<std::string, QuotaState> batch;
    batch.swap(queued_);
    writing_ = true;
    lock.unlock();
    Write(batch);
    lock.lock();
    writing_ = false;
    cv_.notify_all();
  }
}

void QuotaCache::Write(const std::map<std::string, QuotaState>& batch) {
  // Pipelined, up to 256 counters a round trip: one round trip per counter kept the writer, and
  // Redis, switching for every registration, and with Redis across a network it would have
  // capped the writer at one counter per round trip.
  constexpr size_t kPipeline = 256;
  std::vector<RedisPool::EvalCall> calls;
  calls.reserve(std::min(batch.size(), kPipeline));
  bool unreachable = false;
  auto flush = [&] {
    unreachable = true;
    for (const auto& r : redis_.EvalEach(kStore, calls)) {
      if (r.ok() || r.status().reason() != "REDIS_UNAVAILABLE") unreachable = false;
      if (!r.ok()) spdlog::debug("quota cache store skipped: {}", r.status().ToString());
    }
    calls.clear();
  };
  for (const auto& [key, q] : batch) {
    calls.push_back({{key},
                     {std::to_string(q.version), std::to_string(q.limit), std::to_string(q.taken),
                      std::to_string(q.waitlisted), std::to_string(ttl_.count())}});
    if (calls.size() == kPipeline) {
      flush();
      // Redis is down: the rest of the batch is dropped rather than each chunk waiting out the
      // connection timeout (Redis never decides: the next changes write their counters again).
      if (unreachable) return;
    }
  }
  if (!calls.empty()) flush();
}

StatusOr<std::map<std::string, QuotaState>> QuotaCache::Load(
    const std::string& event_id, const std::vector<std::string>& countries) {
  std::vector<std::string> keys;
  for (const auto& c : countries) keys.push_back(Key(event_id, c));
  std::map<std::string, QuotaState> out;
  if (keys.empty()) return out;
  ECD_ASSIGN_OR_RETURN(auto r, redis_.Eval(kLoad, keys, {}));
  if (r.type != RedisReply::Type::kArray || r.elements.size() != keys.size()) {
    return Status::Unavailable("REDIS_UNAVAILABLE", "unexpected reply from Redis");
  }
  for (size_t i = 0; i < countries.size(); ++i) {
    const auto& e = r.elements[i].elements;
    if (e.size() != 4) continue;
    try {
      QuotaState q;
      q.event_id = event_id;
      q.country = countries[i];
      q.version = std::stoll(e[0].str);
      q.limit = std::stoi(e[1].str);
      q.taken = std::stoi(e[2].str);
      q.waitlisted = std::stoi(e[3].str);
      out[countries[i]] = q;
    } catch (const std::exception&) {
      // A damaged entry is as good as missing: PostgreSQL answers for it.
    }
  }
  return out;
}

}  // namespace ecd::registration
