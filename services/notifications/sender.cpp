#include "services/notifications/sender.hpp"

#include <spdlog/spdlog.h>

namespace ecd::notifications {

std::chrono::milliseconds Backoff(int attempts, std::chrono::milliseconds base,
                                  std::chrono::milliseconds max) {
  auto delay = base;
  for (int i = 1; i < attempts && delay < max; ++i) delay *= 2;
  return std::min(delay, max);
}

Sender::Sender(Store& store, const Mailer& mailer, SenderOptions options)
    : store_(store), mailer_(mailer), options_(options) {}

Sender::~Sender() { Stop(); }

void Sender::Start() {
  for (int i = 0; i < options_.threads; ++i) threads_.emplace_back([this] { Loop(); });
}

void Sender::Stop() {
  stopping_ = true;
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void Sender::Loop() {
  while (!stopping_) {
    auto claimed = store_.Claim(options_.batch, options_.lease_seconds);
    if (!claimed.ok() || claimed->empty()) {
      if (!claimed.ok()) spdlog::warn("claiming messages: {}", claimed.status().ToString());
      std::this_thread::sleep_for(options_.poll);
      continue;
    }
    for (const auto& m : *claimed) {
      if (stopping_) break;  // the lease expires and another sender takes it
      OutgoingMail mail;
      mail.message_id = m.id + "@events.ecd";
      mail.to_address = m.recipient;
      mail.subject = m.subject;
      mail.text = m.body;
      mail.icalendar = m.icalendar;
      mail.ical_cancel = m.kind == "cancelled" || m.kind == "event_cancelled";
      mail.attachment = m.attachment;
      mail.attachment_name = m.attachment_name;
      mail.attachment_type = m.attachment_type;
      SendResult r = mailer_.Send(mail);
      Status st;
      if (r.ok) {
        st = store_.MarkSent(m.id);
        spdlog::info("sent message {} ({}) after {} attempt(s)", m.id, m.kind, m.attempts + 1);
      } else {
        const int failures = m.attempts + 1;
        const bool dead = r.permanent || failures >= options_.max_attempts;
        const auto delay = Backoff(failures, options_.retry_base, options_.retry_max);
        st = store_.MarkFailed(m.id, r.error, delay.count(), dead);
        spdlog::warn("message {} ({}) attempt {} failed: {}{}", m.id, m.kind, failures, r.error,
                     dead ? "; dead-lettered" : "");
      }
      if (!st.ok()) spdlog::warn("recording message {}: {}", m.id, st.ToString());
    }
  }
}

}  // namespace ecd::notifications
