#include "common/redis.hpp"

#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include "common/crypto.hpp"
#include "common/metrics.hpp"

namespace ecd {
namespace {

RedisReply Convert(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(Convert(r->element[i]));
      break;
    default:
      out.type = RedisReply::Type::kNil;
  }
  return out;
}

// A reply as our answer: an error reply is a failure (NOSCRIPT or REDIS_ERROR).
StatusOr<RedisReply> Answer(const redisReply* r) {
  if (r->type == REDIS_REPLY_ERROR) {
    std::string msg(r->str, r->len);
    return Status(Code::kInternal, msg.rfind("NOSCRIPT", 0) == 0 ? "NOSCRIPT" : "REDIS_ERROR", msg);
  }
  return Convert(r);
}

timeval ToTimeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

}  // namespace

LuaScript::LuaScript(std::string source) : source_(std::move(source)), sha1_(Sha1Hex(source_)) {}

RedisPool::RedisPool(Options options) : options_(std::move(options)) {}

RedisPool::~RedisPool() {
  for (auto* c : idle_) redisFree(c);
}

redisContext* RedisPool::Connect(Status* error) {
  redisContext* ctx =
      redisConnectWithTimeout(options_.host.c_str(), options_.port, ToTimeval(options_.timeout));
  if (ctx == nullptr || ctx->err) {
    *error = Status::Unavailable("REDIS_UNAVAILABLE", std::string("cannot connect to Redis: ") +
                                                          (ctx ? ctx->errstr : "out of memory"));
    if (ctx) redisFree(ctx);
    return nullptr;
  }
  redisSetTimeout(ctx, ToTimeval(options_.timeout));
  if (!options_.password.empty()) {
    auto* r = static_cast<redisReply*>(redisCommand(ctx, "AUTH %s", options_.password.c_str()));
    bool ok = r != nullptr && r->type != REDIS_REPLY_ERROR;
    if (r) freeReplyObject(r);
    if (!ok) {
      redisFree(ctx);
      *error = Status::Unavailable("REDIS_UNAVAILABLE", "Redis refused the password");
      return nullptr;
    }
  }
  return ctx;
}

redisContext* RedisPool::Take(Status* error) {
  std::unique_lock<std::mutex> lock(mu_);
  auto deadline = std::chrono::steady_clock::now() + options_.timeout;
  for (;;) {
    if (!idle_.empty()) {
      redisContext* c = idle_.back();
      idle_.pop_back();
      return c;
    }
    if (open_ < options_.size) {
      ++open_;
      lock.unlock();
      redisContext* c = Connect(error);
      if (c == nullptr) {
        lock.lock();
        --open_;
        cv_.notify_one();
      }
      return c;
    }
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= options_.size) {
      *error = Status::Unavailable("REDIS_UNAVAILABLE", "no Redis connection free in time");
      return nullptr;
    }
  }
}

void RedisPool::Give(redisContext* ctx) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (ctx == nullptr) {
      --open_;
    } else {
      idle_.push_back(ctx);
    }
  }
  cv_.notify_one();
}

StatusOr<RedisReply> RedisPool::Run(redisContext*& ctx, const std::vector<std::string>& argv) {
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  for (const auto& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  // A connection that broke (Redis restarted) is reopened once, then the command is retried.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (ctx == nullptr) {
      Status err;
      ctx = Connect(&err);
      if (ctx == nullptr) return err;
    }
    auto* r = static_cast<redisReply*>(
        redisCommandArgv(ctx, static_cast<int>(argv.size()), ptrs.data(), lens.data()));
    if (r == nullptr) {
      spdlog::debug("Redis I/O error: {}", ctx->errstr);
      redisFree(ctx);
      ctx = nullptr;
      continue;
    }
    auto out = Answer(r);
    freeReplyObject(r);
    return out;
  }
  return Status::Unavailable("REDIS_UNAVAILABLE", "Redis connection lost");
}

bool RedisPool::RunPipelined(redisContext*& ctx, const std::vector<std::vector<std::string>>& argvs,
                             const std::vector<size_t>& which,
                             std::vector<StatusOr<RedisReply>>& out) {
  // Until its reply is read, a call's answer is that the connection was lost (not an answer of
  // an earlier round, like NOSCRIPT, which would say it did not run).
  for (size_t i : which) {
    out[i] = Status::Unavailable("REDIS_UNAVAILABLE", "Redis connection lost");
  }
  if (ctx == nullptr) {
    Status err;
    ctx = Connect(&err);
    if (ctx == nullptr) {
      for (size_t i : which) out[i] = err;
      return true;  // nothing sent: every call has its answer (Redis is down)
    }
  }
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  for (size_t i : which) {
    ptrs.clear();
    lens.clear();
    for (const auto& a : argvs[i]) {
      ptrs.push_back(a.data());
      lens.push_back(a.size());
    }
    if (redisAppendCommandArgv(ctx, static_cast<int>(ptrs.size()), ptrs.data(), lens.data()) !=
        REDIS_OK) {
      break;  // out of memory: hiredis marks the context failed, and the first read below fails
    }
  }
  for (size_t i : which) {
    void* reply = nullptr;
    if (redisGetReply(ctx, &reply) != REDIS_OK || reply == nullptr) {
      spdlog::debug("Redis I/O error: {}", ctx->errstr);
      redisFree(ctx);
      ctx = nullptr;
      return false;
    }
    auto* r = static_cast<redisReply*>(reply);
    out[i] = Answer(r);
    freeReplyObject(r);
  }
  return true;
}

namespace {

// Counts a failed command by its reason (REDIS_UNAVAILABLE, REDIS_ERROR, ...).
StatusOr<RedisReply> Counted(StatusOr<RedisReply> result) {
  if (!result.ok()) {
    Counter("ecd_redis_errors_total", "Redis commands that failed, by reason.",
            {{"reason", std::string(result.status().reason())}})
        .Inc();
  }
  return result;
}

}  // namespace

StatusOr<RedisReply> RedisPool::Command(const std::vector<std::string>& argv) {
  Status err;
  redisContext* ctx = Take(&err);
  if (ctx == nullptr) return Counted(err);
  auto result = Run(ctx, argv);
  Give(ctx);
  return Counted(std::move(result));
}

StatusOr<RedisReply> RedisPool::Eval(const LuaScript& script, const std::vector<std::string>& keys,
                                     const std::vector<std::string>& args) {
  return std::move(EvalEach(script, {{keys, args}}).front());
}

bool RedisPool::Probe() {
  auto r = Command({"PING"});
  const bool up = r.ok() && r->str == "PONG";
  Gauge("ecd_redis_up", "1 when Redis answered the last probe, 0 when it did not.").Set(up ? 1 : 0);
  return up;
}

std::vector<StatusOr<RedisReply>> RedisPool::EvalEach(const LuaScript& script,
                                                      const std::vector<EvalCall>& calls) {
  std::vector<StatusOr<RedisReply>> out(
      calls.size(), Status::Unavailable("REDIS_UNAVAILABLE", "Redis connection lost"));
  if (calls.empty()) return out;
  std::vector<std::vector<std::string>> argvs;
  argvs.reserve(calls.size());
  for (const auto& c : calls) {
    std::vector<std::string> argv{"EVALSHA", script.sha1(), std::to_string(c.keys.size())};
    argv.insert(argv.end(), c.keys.begin(), c.keys.end());
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    argvs.push_back(std::move(argv));
  }
  Status err;
  redisContext* ctx = Take(&err);
  if (ctx == nullptr) {
    for (auto& o : out) o = err;
  } else {
    std::vector<size_t> pending(calls.size());
    for (size_t i = 0; i < pending.size(); ++i) pending[i] = i;
    int broken = 0;  // pipelines cut by a lost connection: the second one ends the attempt
    bool reloaded = false;
    while (!pending.empty()) {
      const bool whole = RunPipelined(ctx, argvs, pending, out);
      if (!whole) ++broken;
      std::vector<size_t> again;
      bool noscript = false;
      for (size_t i : pending) {
        if (!out[i].ok() && out[i].status().reason() == "NOSCRIPT") {
          noscript = true;
          again.push_back(i);
        } else if (!whole && !out[i].ok() && out[i].status().reason() == "REDIS_UNAVAILABLE") {
          again.push_back(i);  // not answered before the connection broke
        }
      }
      if (again.empty() || broken > 1 || (noscript && reloaded)) break;
      // Redis lost its scripts (a restart, a failover, SCRIPT FLUSH): load it again (a broken
      // connection reloads after reconnecting).
      if (noscript && ctx != nullptr) {
        Counter("ecd_redis_script_reloads_total", "Lua scripts loaded again after NOSCRIPT.").Inc();
        reloaded = true;
        auto loaded = Run(ctx, {"SCRIPT", "LOAD", script.source()});
        if (!loaded.ok()) {
          for (size_t i : again) out[i] = loaded.status();
          break;
        }
      }
      pending = std::move(again);
    }
    Give(ctx);
  }
  for (auto& o : out) o = Counted(std::move(o));
  return out;
}

}  // namespace ecd
