#pragma once
// SMTP delivery through libcurl: the message is built here (mime.hpp: a text part, the iCalendar
// invitation when there is one, and any number of files, in multipart/mixed) and uploaded as it
// is; STARTTLS and login when configured; a Message-ID derived from the message id so that a
// retry after an unknown outcome is recognisable. A sender keeps one SMTP connection open across
// mails (SmtpSession).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "services/notifications/mime.hpp"

namespace ecd::notifications {

struct SmtpConfig {
  std::string url = "smtp://127.0.0.1:1025";  // smtp:// or smtps://
  std::string from_address = "events@eucyberdirect.eu";
  std::string from_name = "EU Cyber Direct";
  std::string user;
  std::string password;
  bool starttls = false;  // require STARTTLS on smtp://
  std::chrono::milliseconds timeout{15000};
};

struct OutgoingMail {
  std::string message_id;  // without angle brackets
  std::string to_address;
  std::string to_name;
  std::string subject;
  std::string text;
  std::string icalendar;  // attached as invite.ics (cancel.ics) when not empty
  bool ical_cancel = false;
  std::vector<Attachment> attachments;  // files, in this order after the invitation
};

struct SendResult {
  bool ok = false;
  bool permanent = false;  // the server refused for good (5xx): no retry helps
  bool aborted = false;    // stopped on request (shutdown): not an attempt
  std::string error;
};

class Mailer {
 public:
  explicit Mailer(SmtpConfig config);
  // One mail over a connection of its own (opened and closed here). `abort`, when given and set
  // (by another thread), ends the exchange within about a second.
  SendResult Send(const OutgoingMail& mail, const std::atomic<bool>* abort = nullptr) const;
  // The whole message as it is sent (headers and MIME body, CRLF line ends). `date` is the Date
  // header's value (now when empty); `boundary` the multipart boundary (random when empty).
  std::string Build(const OutgoingMail& mail, const std::string& date = "",
                    const std::string& boundary = "") const;
  const SmtpConfig& config() const { return config_; }

 private:
  SmtpConfig config_;
};

// One SMTP connection kept from one mail to the next, so that a relay sees one TCP (and TLS)
// handshake, EHLO and AUTH per sender rather than per mail: libcurl keeps the connection of a
// finished transfer in the handle's cache and takes it up again for the next mail to the same
// URL (unless it has been idle for about two minutes, or the server closed it meanwhile). After
// any failure the handle and its connection are dropped, so the next mail starts afresh; a mail
// that fails on a kept connection is tried once more at once on a new one (the server may have
// ended the session: an idle timeout, a limit of mails per connection). Not thread-safe: one per
// sending thread. Ending the session says QUIT.
class SmtpSession {
 public:
  explicit SmtpSession(const Mailer& mailer);
  ~SmtpSession();
  SmtpSession(const SmtpSession&) = delete;
  SmtpSession& operator=(const SmtpSession&) = delete;

  // As Mailer::Send, over the kept connection.
  SendResult Send(const OutgoingMail& mail, const std::atomic<bool>* abort = nullptr);
  // Connections opened so far.
  int64_t connections() const { return connections_; }

 private:
  struct Handle;
  SendResult Perform(const std::string& message, const std::string& recipient,
                     const std::atomic<bool>* abort, bool* reused);

  const Mailer& mailer_;
  std::unique_ptr<Handle> handle_;  // null until the first mail, and after a failure
  int64_t connections_ = 0;
};

}  // namespace ecd::notifications
