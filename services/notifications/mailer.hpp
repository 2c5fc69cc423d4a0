#pragma once
// SMTP delivery through libcurl: a MIME message (text part, optional iCalendar attachment) built
// with libcurl's MIME API, STARTTLS and login when configured, a Message-ID derived from the
// message id so that a retry after an unknown outcome is recognisable.
#include <chrono>
#include <string>

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
  std::string icalendar;  // attached as invite.ics when not empty
  bool ical_cancel = false;
  // Another file (the certificate's PDF), when `attachment_name` is set.
  std::string attachment;
  std::string attachment_name;
  std::string attachment_type;
};

struct SendResult {
  bool ok = false;
  bool permanent = false;  // the server refused for good (5xx): no retry helps
  std::string error;
};

class Mailer {
 public:
  explicit Mailer(SmtpConfig config);
  SendResult Send(const OutgoingMail& mail) const;
  // The full message as sent (headers and MIME body), for tests and previews.
  static std::string EncodeHeader(const std::string& text);

 private:
  SmtpConfig config_;
};

}  // namespace ecd::notifications
