#pragma once
// Delivers the outbox to the notifications service: in outbox order (so in order per
// registration), in batches, marking rows delivered only once acknowledged, retrying with backoff
// (1 s doubling to 30 s) while notifications is unreachable. One relay works at a time across
// replicas (a session advisory lock elects it; if its process dies the lock goes with its
// connection and another takes over). A crash between the call and the marking re-sends rows,
// which notifications recognises by event id: at least once delivered, exactly once in effect.
// It runs as a PeriodicTask: each run delivers until the outbox is empty (or an error), every
// `poll` and whenever Wake() says a change was written. A replica that does not hold the lead asks
// for it at most once per `poll`.
#include <chrono>
#include <memory>
#include <string>

#include "common/periodic_task.hpp"

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
  // Runs as soon as the current run (if any) ends: something was written to the outbox.
  void Wake();

 private:
  // One run: the connection and the lead if this replica lacks them, then batches until the
  // outbox is empty. Errors drop the connection (and the lead) and set the backoff.
  void RunOnce();
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string pg_url_;
  Options options_;
  PeriodicTask task_;
};

}  // namespace ecd::registration
