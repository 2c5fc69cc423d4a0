#pragma once
// Redis through hiredis: a small pool of connections (a redisContext is not thread-safe), and Lua
// scripts run by EVALSHA that reload themselves when Redis answers NOSCRIPT (after a restart, a
// failover or SCRIPT FLUSH). A lost connection is reopened once per command; if Redis is still
// unreachable the call answers UNAVAILABLE (REDIS_UNAVAILABLE) and the caller falls back to
// PostgreSQL, which always decides.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.hpp"

struct redisContext;

namespace ecd {

struct RedisReply {
  enum class Type { kNil, kInteger, kString, kStatus, kArray };
  Type type = Type::kNil;
  long long integer = 0;
  std::string str;
  std::vector<RedisReply> elements;
};

class LuaScript {
 public:
  explicit LuaScript(std::string source);
  const std::string& source() const { return source_; }
  const std::string& sha1() const { return sha1_; }

 private:
  std::string source_;
  std::string sha1_;
};

class RedisPool {
 public:
  struct Options {
    std::string host = "127.0.0.1";
    int port = 6379;
    int size = 4;
    std::chrono::milliseconds timeout{500};
    std::string password;
  };
  explicit RedisPool(Options options);
  ~RedisPool();
  RedisPool(const RedisPool&) = delete;
  RedisPool& operator=(const RedisPool&) = delete;

  StatusOr<RedisReply> Command(const std::vector<std::string>& argv);
  // EVALSHA, and on NOSCRIPT: SCRIPT LOAD then EVALSHA again (EvalEach of one call).
  StatusOr<RedisReply> Eval(const LuaScript& script, const std::vector<std::string>& keys,
                            const std::vector<std::string>& args);
  // The same script for each of `calls` (keys, args), pipelined: every command is written, then
  // every reply read, on one connection: one round trip for all of them instead of one each.
  // Answers in the order of `calls`. A NOSCRIPT reloads the script and runs those calls again; a
  // broken connection sends the calls not answered yet once more on a new one (a call whose reply
  // was lost may have run).
  struct EvalCall {
    std::vector<std::string> keys;
    std::vector<std::string> args;
  };
  std::vector<StatusOr<RedisReply>> EvalEach(const LuaScript& script,
                                             const std::vector<EvalCall>& calls);
  bool Probe();

 private:
  redisContext* Take(Status* error);
  void Give(redisContext* ctx);
  StatusOr<RedisReply> Run(redisContext*& ctx, const std::vector<std::string>& argv);
  // Pipelines the commands of `argvs` picked by `which`; sets their answers in `out`. False when
  // the connection broke (ctx is then null, and the answers not read are left as they were).
  bool RunPipelined(redisContext*& ctx, const std::vector<std::vector<std::string>>& argvs,
                    const std::vector<size_t>& which, std::vector<StatusOr<RedisReply>>& out);
  redisContext* Connect(Status* error);

  Options options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<redisContext*> idle_;
  int open_ = 0;
};

}  // namespace ecd
