#pragma once
// One way to follow PostgreSQL's NOTIFY: a connection of its own LISTENs on the given channels and
// hands every notification to `notify`. `connected` is called after each connection is made (with
// `again` true after a loss: notifications sent while it was down are gone, so whoever follows
// them re-reads what they follow), `lost` when the connection breaks. Reconnects every second
// until Stop(). The connection is also checked every few seconds, so that a silent loss is seen.
// Handlers run on the listener's thread, one at a time. The session shows in pg_stat_activity as
// application_name 'ecd-<name>' (spaces as dashes).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ecd {

class PgListener {
 public:
  struct Handlers {
    std::function<void(const std::string& channel, const std::string& payload)> notify;
    std::function<void(bool again)> connected;
    std::function<void()> lost;
  };
  PgListener(std::string name, std::string pg_url, std::vector<std::string> channels,
             Handlers handlers, std::chrono::milliseconds probe = std::chrono::seconds(5));
  ~PgListener();
  PgListener(const PgListener&) = delete;
  PgListener& operator=(const PgListener&) = delete;

  void Start();
  // Returns once the thread has ended (within about 200 ms).
  void Stop();
  // Whether the listening connection is up now.
  bool connected() const { return connected_.load(); }

 private:
  void Loop();
  // Sleeps `d` or until Stop(); false when stopping.
  bool Pause(std::chrono::milliseconds d);

  std::string name_;
  std::string pg_url_;
  std::vector<std::string> channels_;
  Handlers handlers_;
  std::chrono::milliseconds probe_;
  std::atomic<bool> connected_{false};
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace ecd
