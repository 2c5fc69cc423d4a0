#pragma once
// Sends due messages: claims them with FOR UPDATE SKIP LOCKED (so any number of replicas send
// each once), sends over SMTP, records every attempt, retries with exponential backoff (30 s
// doubling to 1 hour by default) and dead-letters after the configured number of attempts, or at
// once when the server refuses for good (5xx).
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "services/notifications/mailer.hpp"
#include "services/notifications/store.hpp"

namespace ecd::notifications {

struct SenderOptions {
  int threads = 2;
  int batch = 10;
  int max_attempts = 8;
  std::chrono::milliseconds retry_base{30000};
  std::chrono::milliseconds retry_max{3600000};
  std::chrono::milliseconds poll{250};
  int lease_seconds = 120;  // a claim outlives any single send (SMTP timeout)
};

// The delay before attempt `attempts + 1`, after `attempts` failures (attempts >= 1).
std::chrono::milliseconds Backoff(int attempts, std::chrono::milliseconds base,
                                  std::chrono::milliseconds max);

class Sender {
 public:
  Sender(Store& store, const Mailer& mailer, SenderOptions options);
  ~Sender();
  void Start();
  void Stop();

 private:
  void Loop();

  Store& store_;
  const Mailer& mailer_;
  SenderOptions options_;
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;
};

}  // namespace ecd::notifications
