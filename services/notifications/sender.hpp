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
// stops. That check asks the database only when it must: a claim (or an extension) that the
// database took at local time T holds at least until T + lease on the database's clock, so until
// T + 4/5 of the lease (CLOCK_BOOTTIME, which counts a suspended host too) the message is known to
// be its own. A send starts on that knowledge only while a third of the lease is left of it (the
// heartbeat extends the claim during the send); a sender past that point (stopped, swapped out,
// its heartbeat failing) asks the database, which renews the claim for a whole lease.
//
// Each sending thread keeps its own SMTP connection (SmtpSession) from one mail to the next, and
// records the mails of a claimed batch as sent in one transaction once the batch is through (a
// failure is recorded at once). A crash between a mail and its record sends it again when the
// claim runs out, with the same Message-ID: at most one batch per sending thread.
#include <time.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/metrics.hpp"
#include "common/periodic_task.hpp"
#include "services/notifications/mailer.hpp"
#include "services/notifications/store.hpp"

namespace ecd::notifications {

struct SenderOptions {
  int threads = 2;  // sending threads, each with one SMTP connection
  // Messages claimed at once, and recorded as sent at once: a crash re-sends at most this many
  // per sending thread (with the same Message-ID).
  int batch = 25;
  int max_attempts = 8;
  std::chrono::milliseconds retry_base{30000};
  std::chrono::milliseconds retry_max{3600000};
  std::chrono::milliseconds poll{250};
  std::chrono::milliseconds lease{10000};
};

// The delay before attempt `attempts + 1`, after `attempts` failures (attempts >= 1).
std::chrono::milliseconds Backoff(int attempts, std::chrono::milliseconds base,
                                  std::chrono::milliseconds max);

// CLOCK_BOOTTIME as a std::chrono clock: unlike steady_clock (CLOCK_MONOTONIC) it goes on while
// the host is suspended, as the database's clock does.
struct BootClock {
  using duration = std::chrono::nanoseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<BootClock>;
  static constexpr bool is_steady = true;
  static time_point now() {
    timespec ts{};
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return time_point(std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec));
  }
};

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
  using Clock = BootClock;
  // Holds `claimed`, whose claims the database took after `since`.
  void Hold(const std::vector<ClaimedMessage>& claimed, Clock::time_point since);
  void Drop(const std::string& id);
  // Whether message `id` is still this sender's, for a send to start now: known without asking
  // while its claim is known to run for a third of the lease more, else asked of the database
  // (which extends it when it is).
  bool StillHeld(const std::string& id);
  // Until when, on the steady clock, a claim taken (or extended) after `since` is known to hold.
  Clock::time_point HeldUntil(Clock::time_point since) const;

  Store& store_;
  const Mailer& mailer_;
  SenderOptions options_;
  std::string id_;  // whose claims these are: one per process
  std::atomic<bool> stopping_{false};
  std::vector<std::unique_ptr<SmtpSession>> sessions_;  // one per sending task
  std::vector<std::unique_ptr<PeriodicTask>> senders_;
  std::unique_ptr<PeriodicTask> heartbeat_;
  std::mutex mu_;
  // Claimed and not yet recorded, each with the time until which its claim is known to hold.
  std::map<std::string, Clock::time_point> held_;
};

}  // namespace ecd::notifications
