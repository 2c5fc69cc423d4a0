#pragma once
// Sends due messages: claims them with FOR UPDATE SKIP LOCKED for a short lease (so any number
// of replicas send each once), sends over SMTP, records every attempt, retries with exponential
// backoff (30 s doubling to 1 hour by default) and dead-letters after the configured number of
// attempts, or at once when the server refuses for good (5xx).
//
// The lease is short (ECD_CLAIM_LEASE_MS, 10 s by default) so that the messages of a sender
// that dies are taken over within seconds: a living sender extends its claims every third of
// the lease while it works on them (a slow SMTP server does not make it lose them), checks that
// a message is still its own just before sending it, and gives back what it has not sent when it
// stops.
//
// Each sending thread keeps its own SMTP connection (SmtpSession) from one mail to the next, and
// records the mails of a claimed batch as sent in one transaction once the batch is through (a
// failure is recorded at once). A crash between a mail and its record sends it again when the
// claim runs out, with the same Message-ID: at most one batch per sending thread.
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/metrics.hpp"
#include "common/periodic_task.hpp"
#include "services/notifications/mailer.hpp"
#include "services/notifications/store.hpp"

namespace ecd::notifications {

struct SenderOptions {
  int threads = 2;  // sending threads, each with one SMTP connection
  int batch = 10;   // messages claimed at once, and recorded as sent at once
  int max_attempts = 8;
  std::chrono::milliseconds retry_base{30000};
  std::chrono::milliseconds retry_max{3600000};
  std::chrono::milliseconds poll{250};
  std::chrono::milliseconds lease{10000};
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
  const std::string& id() const { return id_; }

 private:
  static CounterHandle DeadLetters();
  // Claims and sends until nothing is due (one run of a sending task), over `smtp`.
  void Drain(SmtpSession& smtp);
  // Extends the claims this process holds (the heartbeat task).
  void Heartbeat();
  void Hold(const std::vector<ClaimedMessage>& claimed);
  void Drop(const std::string& id);

  Store& store_;
  const Mailer& mailer_;
  SenderOptions options_;
  std::string id_;  // whose claims these are: one per process
  std::atomic<bool> stopping_{false};
  std::vector<std::unique_ptr<SmtpSession>> sessions_;  // one per sending task
  std::vector<std::unique_ptr<PeriodicTask>> senders_;
  std::unique_ptr<PeriodicTask> heartbeat_;
  std::mutex mu_;
  std::set<std::string> held_;  // claimed and not yet recorded
};

}  // namespace ecd::notifications
