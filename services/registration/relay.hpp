#pragma once
// Delivers the outbox to the notifications service: in outbox order (so in order per
// registration), in batches, marking rows delivered only once acknowledged, retrying with backoff
// (1 s doubling to 30 s) while notifications is unreachable. One relay works at a time across
// replicas (a session advisory lock elects it; if its process dies the lock goes with its
// connection and another takes over). A crash between the call and the marking re-sends rows,
// which notifications recognises by event id: at least once delivered, exactly once in effect.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>

namespace ecd::registration {

class Relay {
 public:
  struct Options {
    std::string notifications_address = "127.0.0.1:50063";
    std::string token;  // role service
    int batch = 200;
    std::chrono::milliseconds poll{200};
  };
  Relay(std::string pg_url, Options options);
  ~Relay();
  void Start();
  void Stop();

 private:
  void Loop();
  std::string pg_url_;
  Options options_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace ecd::registration
