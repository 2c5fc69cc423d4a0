// ecd::PgListener against the real PostgreSQL: notifications on every channel it listens to, a
// connection terminated from the server side (pg_terminate_backend) reported as lost, then
// re-made with `again`, and notifications received again; Stop() returns promptly.
#include "common/pg_listener.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "tests/harness/harness.hpp"

namespace ecd {
namespace {

using namespace std::chrono_literals;

struct Seen {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> notes;  // "channel:payload"
  std::vector<bool> connects;      // the `again` of each connection
  int lost = 0;

  template <typename Pred>
  bool WaitFor(Pred pred, std::chrono::milliseconds d = 10s) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, d, [&] { return pred(*this); });
  }
};

void Notify(const std::string& url, const std::string& channel, const std::string& payload) {
  pqxx::connection conn(url);
  pqxx::nontransaction tx(conn);
  tx.exec("SELECT pg_notify(" + tx.quote(channel) + ", " + tx.quote(payload) + ")");
}

TEST(PgListener, NotifiesReconnectsAfterTerminationAndStops) {
  const std::string url = test::NewDatabaseUrl("listen");
  Seen seen;
  PgListener listener("test listener", url, {"ecd_one", "ecd_two"},
                      {[&](const std::string& channel, const std::string& payload) {
                         std::lock_guard<std::mutex> lock(seen.mu);
                         seen.notes.push_back(channel + ":" + payload);
                         seen.cv.notify_all();
                       },
                       [&](bool again) {
                         std::lock_guard<std::mutex> lock(seen.mu);
                         seen.connects.push_back(again);
                         seen.cv.notify_all();
                       },
                       [&] {
                         std::lock_guard<std::mutex> lock(seen.mu);
                         ++seen.lost;
                         seen.cv.notify_all();
                       }},
                      200ms);
  EXPECT_FALSE(listener.connected());
  listener.Start();
  ASSERT_TRUE(seen.WaitFor([](Seen& s) { return s.connects.size() == 1; }));
  EXPECT_FALSE(seen.connects[0]);
  EXPECT_TRUE(listener.connected());
  Notify(url, "ecd_one", "a");
  Notify(url, "ecd_two", "b");
  Notify(url, "ecd_other", "c");  // not listened to
  ASSERT_TRUE(seen.WaitFor([](Seen& s) { return s.notes.size() >= 2; }));
  std::this_thread::sleep_for(300ms);
  {
    std::lock_guard<std::mutex> lock(seen.mu);
    EXPECT_EQ(seen.notes, (std::vector<std::string>{"ecd_one:a", "ecd_two:b"}));
  }

  // The server ends the listening session: the loss is seen, the connection re-made.
  pqxx::connection admin(url);
  pqxx::nontransaction tx(admin);
  const int pid = [&] {
    for (int i = 0; i < 50; ++i) {
      auto r = tx.exec(
          "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> "
          "pg_backend_pid() AND backend_type = 'client backend'");
      if (r.size() == 1) return r[0][0].as<int>();
      std::this_thread::sleep_for(50ms);
    }
    return 0;
  }();
  ASSERT_NE(pid, 0);
  tx.exec("SELECT pg_terminate_backend(" + std::to_string(pid) + ")");
  ASSERT_TRUE(seen.WaitFor([](Seen& s) { return s.lost == 1 && s.connects.size() == 2; }));
  EXPECT_TRUE(seen.connects[1]);
  EXPECT_TRUE(listener.connected());
  Notify(url, "ecd_two", "after");
  ASSERT_TRUE(seen.WaitFor([](Seen& s) { return s.notes.size() == 3; }));
  EXPECT_EQ(seen.notes.back(), "ecd_two:after");

  const auto before = std::chrono::steady_clock::now();
  listener.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 2s);
  EXPECT_FALSE(listener.connected());
}

TEST(PgListener, KeepsTryingUntilTheDatabaseAnswers) {
  Seen seen;
  // Nothing listens on this port: every attempt fails, none is reported as a connection.
  PgListener listener("test listener",
                      "postgresql://postgres@127.0.0.1:" + std::to_string(test::FreePort()) + "/x",
                      {"ecd_one"},
                      {nullptr,
                       [&](bool) {
                         std::lock_guard<std::mutex> lock(seen.mu);
                         seen.connects.push_back(true);
                       },
                       nullptr});
  listener.Start();
  std::this_thread::sleep_for(1500ms);
  EXPECT_FALSE(listener.connected());
  {
    std::lock_guard<std::mutex> lock(seen.mu);
    EXPECT_TRUE(seen.connects.empty());
  }
  listener.Stop();
}

}  // namespace
}  // namespace ecd
