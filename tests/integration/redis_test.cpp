// ecd::RedisPool and ecd::LuaScript against a private Redis server that the tests stop and start:
// EVALSHA with NOSCRIPT reload, REDIS_UNAVAILABLE while the server is down, reconnection through
// the same pool once it is back, concurrent use of the pool, and pipelined calls (EvalEach).
#include "common/redis.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <latch>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "common/status.hpp"
#include "tests/harness/harness.hpp"

namespace ecd {
namespace {

using std::chrono::milliseconds;

const LuaScript& IncrBy() {
  static const LuaScript kScript("return redis.call('INCRBY', KEYS[1], ARGV[1])");
  return kScript;
}

RedisPool::Options PoolOptions(int port, int size) {
  RedisPool::Options o;
  o.host = "127.0.0.1";
  o.port = port;
  o.size = size;
  o.timeout = milliseconds(2000);
  return o;
}

// The integer the script answered, or a failure naming the status.
::testing::AssertionResult EvalGives(RedisPool& pool, const std::string& key, long long expected) {
  auto r = pool.Eval(IncrBy(), {key}, {"1"});
  if (!r.ok()) return ::testing::AssertionFailure() << "Eval failed: " << r.status().ToString();
  if (r->type != RedisReply::Type::kInteger) {
    return ::testing::AssertionFailure() << "Eval answered a non-integer: " << r->str;
  }
  if (r->integer != expected) {
    return ::testing::AssertionFailure() << "Eval gave " << r->integer << ", expected " << expected;
  }
  return ::testing::AssertionSuccess();
}

// Whether Redis has the script cached, asked through the pool itself.
bool ScriptCached(RedisPool& pool) {
  auto r = pool.Command({"SCRIPT", "EXISTS", IncrBy().sha1()});
  return r.ok() && r->type == RedisReply::Type::kArray && r->elements.size() == 1 &&
         r->elements[0].integer == 1;
}

TEST(RedisTest, LuaScriptSha1IsTheOneRedisComputes) {
  test::RedisServer server;
  RedisPool pool(PoolOptions(server.port(), 1));
  auto r = pool.Command({"SCRIPT", "LOAD", IncrBy().source()});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->str, IncrBy().sha1());
}

TEST(RedisTest, EvalReloadsTheScriptAfterScriptFlush) {
  test::RedisServer server;
  RedisPool pool(PoolOptions(server.port(), 2));
  EXPECT_TRUE(pool.Probe());
  EXPECT_TRUE(EvalGives(pool, "counter", 1));
  EXPECT_TRUE(EvalGives(pool, "counter", 2));
  EXPECT_TRUE(EvalGives(pool, "counter", 3));
  EXPECT_TRUE(ScriptCached(pool));

  auto flushed = pool.Command({"SCRIPT", "FLUSH"});
  ASSERT_TRUE(flushed.ok()) << flushed.status().ToString();
  EXPECT_EQ(flushed->type, RedisReply::Type::kStatus);
  ASSERT_FALSE(ScriptCached(pool));
  // NOSCRIPT: loaded again, and the counter goes on.
  EXPECT_TRUE(EvalGives(pool, "counter", 4));
  EXPECT_TRUE(ScriptCached(pool));
  EXPECT_TRUE(EvalGives(pool, "counter", 5));

  ASSERT_TRUE(pool.Command({"FLUSHALL"}).ok());
  ASSERT_TRUE(pool.Command({"SCRIPT", "FLUSH"}).ok());
  auto gone = pool.Command({"GET", "counter"});
  ASSERT_TRUE(gone.ok()) << gone.status().ToString();
  EXPECT_EQ(gone->type, RedisReply::Type::kNil);
  EXPECT_TRUE(EvalGives(pool, "counter", 1));
  auto value = pool.Command({"GET", "counter"});
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  EXPECT_EQ(value->type, RedisReply::Type::kString);
  EXPECT_EQ(value->str, "1");
}

TEST(RedisTest, ScriptErrorIsInternalAndTheConnectionStaysUsable) {
  test::RedisServer server;
  RedisPool pool(PoolOptions(server.port(), 1));
  LuaScript bad("return redis.call('NO_SUCH_COMMAND', KEYS[1])");
  auto r = pool.Eval(bad, {"k"}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInternal);
  EXPECT_EQ(r.status().reason(), "REDIS_ERROR");
  EXPECT_TRUE(EvalGives(pool, "k2", 1));
  EXPECT_TRUE(pool.Probe());
}

TEST(RedisTest, ServerDownIsUnavailableAndTheSamePoolRecoversWhenItIsBack) {
  test::RedisServer server;
  RedisPool pool(PoolOptions(server.port(), 4));
  EXPECT_TRUE(pool.Probe());
  EXPECT_TRUE(EvalGives(pool, "counter", 1));

  // Open several connections, so that more than one idle connection breaks with the server.
  {
    std::latch start(4);
    std::vector<std::thread> threads;
    std::vector<int> failures(4, 0);
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        start.arrive_and_wait();
        for (int i = 0; i < 50; ++i) {
          if (!pool.Eval(IncrBy(), {"warm"}, {"1"}).ok()) ++failures[t];
        }
      });
    }
    for (auto& th : threads) th.join();
    for (int t = 0; t < 4; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;
  }

  server.Stop();
  for (int i = 0; i < 3; ++i) {
    auto r = pool.Eval(IncrBy(), {"counter"}, {"1"});
    ASSERT_FALSE(r.ok()) << "attempt " << i;
    EXPECT_EQ(r.status().code(), Code::kUnavailable) << r.status().ToString();
    EXPECT_EQ(r.status().reason(), "REDIS_UNAVAILABLE") << r.status().ToString();
  }
  auto cmd = pool.Command({"GET", "counter"});
  ASSERT_FALSE(cmd.ok());
  EXPECT_EQ(cmd.status().code(), Code::kUnavailable);
  EXPECT_EQ(cmd.status().reason(), "REDIS_UNAVAILABLE");
  EXPECT_FALSE(pool.Probe());

  server.Start();  // same port, empty data, empty script cache
  EXPECT_TRUE(pool.Probe());
  EXPECT_TRUE(EvalGives(pool, "counter", 1));
  EXPECT_TRUE(EvalGives(pool, "counter", 2));

  // Every connection of the pool works again (each broken one is reopened on use).
  std::latch start(4);
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < 25; ++i) {
        if (!pool.Eval(IncrBy(), {"counter"}, {"1"}).ok()) ++failures[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;
  EXPECT_TRUE(EvalGives(pool, "counter", 103));
}

TEST(RedisTest, UnreachableServerIsUnavailable) {
  RedisPool pool(PoolOptions(test::FreePort(), 1));  // nothing listens there
  for (int i = 0; i < 3; ++i) {  // a failed connect must not use up the pool's only slot
    auto r = pool.Eval(IncrBy(), {"counter"}, {"1"});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Code::kUnavailable);
    EXPECT_EQ(r.status().reason(), "REDIS_UNAVAILABLE") << "attempt " << i;
  }
  EXPECT_FALSE(pool.Probe());
}

TEST(RedisTest, ConcurrentEvalsOnASmallPoolAreAllCounted) {
  test::RedisServer server;
  RedisPool pool(PoolOptions(server.port(), 4));
  constexpr int kThreads = 8;
  constexpr int kPerThread = 100;
  std::latch start(kThreads);
  std::vector<std::vector<long long>> seen(kThreads);
  std::vector<int> failures(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kPerThread; ++i) {
        auto r = pool.Eval(IncrBy(), {"shared"}, {"1"});
        if (!r.ok() || r->type != RedisReply::Type::kInteger) {
          ++failures[t];
        } else {
          seen[t].push_back(r->integer);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;

  auto value = pool.Command({"GET", "shared"});
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  EXPECT_EQ(value->str, std::to_string(kThreads * kPerThread));
  // Each call got its own reply: together they are exactly 1..800.
  std::vector<long long> all;
  for (const auto& s : seen) all.insert(all.end(), s.begin(), s.end());
  std::sort(all.begin(), all.end());
  std::vector<long long> expected(kThreads * kPerThread);
  for (size_t i = 0; i < expected.size(); ++i) expected[i] = static_cast<long long>(i) + 1;
  EXPECT_EQ(all, expected);
}

// The number of reads Redis has processed from its clients (INFO stats).
long long ReadsProcessed(RedisPool& pool) {
  auto r = pool.Command({"INFO", "stats"});
  if (!r.ok()) return -1;
  const std::string key = "total_reads_processed:";
  const size_t at = r->str.find(key);
  return at == std::string::npos ? -1 : std::stoll(r->str.substr(at + key.size()));
}

std::vector<RedisPool::EvalCall> Increments(int n, const std::string& prefix) {
  std::vector<RedisPool::EvalCall> calls;
  for (int i = 0; i < n; ++i) {
    calls.push_back({{prefix + std::to_string(i % 7)}, {std::to_string(i + 1)}});
  }
  return calls;
}

// Each key's counter after `calls` ran once each, in order: the answers they should give.
std::vector<long long> Expected(const std::vector<RedisPool::EvalCall>& calls) {
  std::map<std::string, long long> sum;
  std::vector<long long> out;
  for (const auto& c : calls) out.push_back(sum[c.keys[0]] += std::stoll(c.args[0]));
  return out;
}

TEST(RedisTest, EvalEachAnswersEveryCallInOrderThroughOnePipeline) {
  test::RedisServer server;
  RedisPool pool(PoolOptions(server.port(), 2));
  auto calls = Increments(300, "quota:{e}:");
  ASSERT_TRUE(EvalGives(pool, "warm", 1));  // the script loaded, the connection open
  const long long reads_before = ReadsProcessed(pool);
  auto answers = pool.EvalEach(IncrBy(), calls);
  const long long reads = ReadsProcessed(pool) - reads_before;
  ASSERT_EQ(answers.size(), calls.size());
  const auto expected = Expected(calls);
  for (size_t i = 0; i < answers.size(); ++i) {
    ASSERT_TRUE(answers[i].ok()) << i << ": " << answers[i].status().ToString();
    EXPECT_EQ(answers[i]->integer, expected[i]) << "call " << i;
  }
  // One call per round trip would have been 300 reads (and the INFO call's own).
  EXPECT_GE(reads, 1);
  EXPECT_LE(reads, 30) << "the calls were not pipelined";
  EXPECT_TRUE(pool.EvalEach(IncrBy(), {}).empty());
}

TEST(RedisTest, EvalEachReloadsTheScriptAndRunsEachCallOnce) {
  test::RedisServer server;
  RedisPool pool(PoolOptions(server.port(), 1));
  ASSERT_TRUE(pool.Command({"SCRIPT", "FLUSH"}).ok());
  auto calls = Increments(50, "k");
  auto answers = pool.EvalEach(IncrBy(), calls);
  const auto expected = Expected(calls);
  for (size_t i = 0; i < answers.size(); ++i) {
    ASSERT_TRUE(answers[i].ok()) << i << ": " << answers[i].status().ToString();
    EXPECT_EQ(answers[i]->integer, expected[i]) << "call " << i;
  }
  EXPECT_TRUE(ScriptCached(pool));
}

TEST(RedisTest, EvalEachAnswersAFailingCallAloneAndServerDownAsUnavailable) {
  test::RedisServer server;
  RedisPool pool(PoolOptions(server.port(), 1));
  auto calls = Increments(5, "m");
  calls[2].args[0] = "not a number";  // INCRBY refuses it: that call's error only
  auto answers = pool.EvalEach(IncrBy(), calls);
  ASSERT_EQ(answers.size(), 5u);
  for (size_t i : {0u, 1u, 3u, 4u}) ASSERT_TRUE(answers[i].ok()) << i;
  EXPECT_EQ(answers[3]->integer, 4);  // m3, by call 3's 4
  ASSERT_FALSE(answers[2].ok());
  EXPECT_EQ(answers[2].status().reason(), "REDIS_ERROR");

  server.Stop();
  answers = pool.EvalEach(IncrBy(), Increments(3, "m"));
  ASSERT_EQ(answers.size(), 3u);
  for (const auto& a : answers) {
    ASSERT_FALSE(a.ok());
    EXPECT_EQ(a.status().reason(), "REDIS_UNAVAILABLE") << a.status().ToString();
  }
  server.Start();  // empty data, empty script cache: reconnected and reloaded
  answers = pool.EvalEach(IncrBy(), Increments(3, "m"));
  ASSERT_EQ(answers.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(answers[i].ok()) << i << ": " << answers[i].status().ToString();
    EXPECT_EQ(answers[i]->integer, static_cast<long long>(i + 1));
  }
}

}  // namespace
}  // namespace ecd
