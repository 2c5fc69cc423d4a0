#include "services/notifications/sender.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>

#include "common/crypto.hpp"
#include "common/metrics.hpp"
#include "common/trace.hpp"
#include "services/notifications/compose.hpp"

namespace ecd::notifications {
namespace {

std::string SenderId() {
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  return std::string(host) + "/" + std::to_string(getpid()) + "/" + NewUuid().substr(0, 8);
}

}  // namespace

std::chrono::milliseconds Backoff(int attempts, std::chrono::milliseconds base,
                                  std::chrono::milliseconds max) {
  auto delay = base;
  for (int i = 1; i < attempts && delay < max; ++i) delay *= 2;
  return std::min(delay, max);
}

Sender::Sender(Store& store, const Mailer& mailer, SenderOptions options)
    : store_(store), mailer_(mailer), options_(options), id_(SenderId()) {
  // Exported from the start at 0, so that the first dead letter shows as an increase.
  DeadLetters();
}

CounterHandle Sender::DeadLetters() {
  return Counter("ecd_messages_dead_letter_total",
                 "Messages given up (attempts exhausted or refused for good by the server).");
}

Sender::~Sender() { Stop(); }

void Sender::Start() {
  if (options_.threads <= 0 || !senders_.empty()) return;
  for (int i = 0; i < options_.threads; ++i) {
    sessions_.push_back(std::make_unique<SmtpSession>(mailer_));
    SmtpSession* smtp = sessions_.back().get();
    senders_.push_back(std::make_unique<PeriodicTask>(
        "sender " + std::to_string(i + 1), options_.poll, [this, smtp] { Drain(*smtp); }));
    senders_.back()->Start();
    senders_.back()->Wake();
  }
  heartbeat_ = std::make_unique<PeriodicTask>(
      "claim heartbeat", std::max(options_.lease / 3, std::chrono::milliseconds(50)),
      [this] { Heartbeat(); });
  heartbeat_->Start();
}

void Sender::Stop() {
  stopping_ = true;  // a drain in progress gives its remaining claims back
  for (auto& t : senders_) t->Stop();
  senders_.clear();
  sessions_.clear();  // QUIT on each kept connection
  if (heartbeat_) heartbeat_->Stop();
  heartbeat_.reset();
}

Sender::Clock::time_point Sender::HeldUntil(Clock::time_point since) const {
  // A fifth of the lease for the clocks' rates and a step of the database's wall clock.
  return since + options_.lease - options_.lease / 5;
}

void Sender::Hold(const std::vector<ClaimedMessage>& claimed, Clock::time_point since) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& m : claimed) held_[m.id] = HeldUntil(since);
}

bool Sender::StillHeld(const std::string& id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = held_.find(id);
    if (it != held_.end() && Clock::now() + options_.lease / 3 <= it->second) return true;
  }
  const auto since = Clock::now();
  auto mine = store_.Renew(id, id_, options_.lease.count());
  if (!mine.ok() || !*mine) {
    if (!mine.ok()) spdlog::warn("message {}: {}", id, mine.status().ToString());
    if (mine.ok()) spdlog::info("message {} was taken over by another sender", id);
    return false;
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto it = held_.find(id);
  if (it != held_.end()) it->second = HeldUntil(since);
  return true;
}

void Sender::Drop(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  held_.erase(id);
}

void Sender::Heartbeat() {
  std::vector<std::string> ids;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, until] : held_) ids.push_back(id);
  }
  if (ids.empty()) return;
  const auto since = Clock::now();
  auto extended = store_.Extend(ids, id_, options_.lease.count());
  if (!extended.ok()) {
    spdlog::warn("extending {} claim(s): {}", ids.size(), extended.status().ToString());
    return;
  }
  // Only the claims the database extended are known to hold longer; another sender took the
  // others (this one stalled past their lease), and StillHeld will find that out.
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& id : *extended) {
    auto it = held_.find(id);
    if (it != held_.end()) it->second = std::max(it->second, HeldUntil(since));
  }
}

void Sender::Drain(SmtpSession& smtp) {
  while (!stopping_) {
    const auto since = Clock::now();
    auto claimed = store_.Claim(options_.batch, options_.lease.count(), id_);
    if (!claimed.ok() || claimed->empty()) {
      if (!claimed.ok()) spdlog::warn("claiming messages: {}", claimed.status().ToString());
      return;  // the task runs again after its interval
    }
    Hold(*claimed, since);
    std::vector<std::string> unsent;
    std::vector<const ClaimedMessage*> sent;  // recorded together after the batch
    for (const auto& m : *claimed) {
      if (stopping_) {
        unsent.push_back(m.id);
        continue;
      }
      // Ours still? After a stall beyond the lease another sender may have taken it.
      if (!StillHeld(m.id)) {
        Drop(m.id);
        continue;
      }
      // The message's log lines belong to the trace of what caused it (a registration call).
      ScopedTrace trace(ChildSpan(ParseTraceparent(m.traceparent)));
      // Most mails carry no file: those need no read.
      auto files = m.has_attachments ? store_.Attachments(m.id)
                                     : StatusOr<std::vector<Attachment>>(std::vector<Attachment>{});
      SendResult r;
      if (files.ok()) {
        const auto start = std::chrono::steady_clock::now();
        r = smtp.Send(ToMail(m.id, m.kind, m.recipient, m.recipient_name, m.subject, m.body,
                             m.icalendar, std::move(*files)),
                      &stopping_);
        if (r.aborted) {  // shutting down: not an attempt; given back below
          unsent.push_back(m.id);
          continue;
        }
        Histogram("ecd_smtp_send_seconds", "Time the SMTP server took to take (or refuse) a mail.",
                  {}, {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30})
            .Observe(
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        Counter("ecd_smtp_send_attempts_total", "SMTP sends, by result (ok, failed, rejected).",
                {{"result", r.ok ? "ok" : (r.permanent ? "rejected" : "failed")}})
            .Inc();
      } else {
        r.error = "reading the message's files: " + files.status().ToString();
      }
      if (r.ok) {
        spdlog::info("sent message {} ({}) after {} attempt(s)", m.id, m.kind, m.attempts + 1);
        sent.push_back(&m);  // still held (and its claim extended) until recorded below
        continue;
      }
      const int failures = m.attempts + 1;
      const bool dead = r.permanent || failures >= options_.max_attempts;
      const auto delay = Backoff(failures, options_.retry_base, options_.retry_max);
      Status st = store_.MarkFailed(m.id, id_, r.error, delay.count(), dead);
      spdlog::warn("message {} ({}) attempt {} failed: {}{}", m.id, m.kind, failures, r.error,
                   dead ? "; dead-lettered" : "");
      if (st.ok()) {
        CountMessage(m.kind, dead ? "dead" : "failed");
        if (dead) DeadLetters().Inc();
      } else {
        spdlog::warn("recording message {}: {}", m.id, st.ToString());
      }
      Drop(m.id);
    }
    // Before anything is given back: a mail sent is never released as unsent.
    if (!sent.empty()) {
      std::vector<std::string> ids;
      for (const auto* m : sent) ids.push_back(m->id);
      Status st = store_.MarkSentMany(ids);
      if (st.ok()) {
        for (const auto* m : sent) CountMessage(m->kind, "sent");
      } else {
        spdlog::warn("recording {} sent message(s): {}", ids.size(), st.ToString());
      }
      for (const auto& id : ids) Drop(id);
    }
    // What this sender will not send now goes back at once rather than when the lease ends.
    if (!unsent.empty()) {
      Status st = store_.Release(unsent, id_);
      if (!st.ok()) spdlog::warn("giving back {} claim(s): {}", unsent.size(), st.ToString());
      for (const auto& id : unsent) Drop(id);
    }
  }
}

}  // namespace ecd::notifications
