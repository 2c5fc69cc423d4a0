#pragma once
// SMTP delivery through libcurl: the message is built here (mime.hpp: a text part, the iCalendar
// invitation when there is one, and any number of files, in multipart/mixed) and uploaded as it
// is; STARTTLS and login when configured; a Message-ID derived from the message id so that a
// retry after an unknown outcome is recognisable.
#include <atomic>
#include <chrono>
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
  // `abort`, when given and set (by another thread), ends the exchange within about a second.
  SendResult Send(const OutgoingMail& mail, const std::atomic<bool>* abort = nullptr) const;
  // The whole message as it is sent (headers and MIME body, CRLF line ends). `date` is the Date
  // header's value (now when empty); `boundary` the multipart boundary (random when empty).
  std::string Build(const OutgoingMail& mail, const std::string& date = "",
                    const std::string& boundary = "") const;

 private:
  SmtpConfig config_;
};

}  // namespace ecd::notifications
