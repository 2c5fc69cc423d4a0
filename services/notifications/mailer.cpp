#include "services/notifications/mailer.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <memory>
#include <mutex>

#include "common/crypto.hpp"

namespace ecd::notifications {
namespace {

std::once_flag g_curl_init;

std::string RfcDate() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

// Header values must not smuggle in other headers.
std::string OneLine(std::string s) {
  for (char& c : s) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return s;
}

struct Upload {
  const std::string* data;
  size_t offset = 0;
};

size_t ReadUpload(char* buffer, size_t size, size_t nitems, void* userdata) {
  auto* up = static_cast<Upload*>(userdata);
  const size_t n = std::min(size * nitems, up->data->size() - up->offset);
  std::memcpy(buffer, up->data->data() + up->offset, n);
  up->offset += n;
  return n;
}

}  // namespace

Mailer::Mailer(SmtpConfig config) : config_(std::move(config)) {
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string Mailer::Build(const OutgoingMail& mail, const std::string& date,
                          const std::string& boundary_in) const {
  std::string out;
  auto header = [&out](const std::string& name, const std::string& value) {
    out += name + ": " + value + "\r\n";
  };
  header("Date", date.empty() ? RfcDate() : OneLine(date));
  header("From", mime::Mailbox(config_.from_name, config_.from_address, 4));
  header("To", mime::Mailbox(mail.to_name, mail.to_address, 2));
  header("Subject", mime::EncodeHeader(mail.subject));
  header("Message-ID", "<" + OneLine(mail.message_id) + ">");
  header("MIME-Version", "1.0");

  const std::string text_headers =
      "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n";
  // The text ends with its own line break; the CRLF before a boundary belongs to the boundary.
  std::string text_body = mime::QuotedPrintable(mail.text);
  if (text_body.size() < 2 || text_body.compare(text_body.size() - 2, 2, "\r\n") != 0) {
    text_body += "=\r\n";  // a soft break: the text does not gain a line
  }
  if (mail.icalendar.empty() && mail.attachments.empty()) {
    out += text_headers + "\r\n" + text_body;
    return out;
  }
  // Base64 never produces "=_", so the boundary cannot occur in an encoded part.
  const std::string boundary =
      boundary_in.empty() ? "=_ecd_" + Sha256Hex(RandomBytes(16)).substr(0, 32) : boundary_in;
  header("Content-Type", "multipart/mixed;\r\n boundary=\"" + boundary + "\"");
  out += "\r\nThis is a message in MIME format.\r\n";
  out += "\r\n--" + boundary + "\r\n" + text_headers + "\r\n" + text_body;
  if (!mail.icalendar.empty()) {
    const std::string name = mail.ical_cancel ? "cancel.ics" : "invite.ics";
    out += "\r\n--" + boundary + "\r\n";
    out += std::string("Content-Type: text/calendar; charset=UTF-8; method=") +
           (mail.ical_cancel ? "CANCEL" : "REQUEST") + mime::Parameter("name", name) + "\r\n";
    out += "Content-Transfer-Encoding: base64\r\n";
    out += "Content-Disposition: attachment" + mime::Parameter("filename", name) + "\r\n\r\n";
    out += mime::Base64Lines(mail.icalendar);
  }
  for (const auto& file : mail.attachments) {
    const std::string name = mime::SafeFilename(file.filename);
    out += "\r\n--" + boundary + "\r\n";
    out += "Content-Type: " + mime::ContentTypeFor(file.content_type, name) +
           mime::Parameter("name", name) + "\r\n";
    out += "Content-Transfer-Encoding: base64\r\n";
    out += "Content-Disposition: attachment" + mime::Parameter("filename", name) + "\r\n\r\n";
    out += mime::Base64Lines(file.content ? std::string_view(*file.content) : std::string_view());
  }
  out += "\r\n--" + boundary + "--\r\n";
  return out;
}

namespace {

// libcurl's progress callback (about once a second while waiting): non-zero aborts.
int AbortWhenAsked(void* abort, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const std::atomic<bool>*>(abort)->load() ? 1 : 0;
}

}  // namespace

SendResult Mailer::Send(const OutgoingMail& mail, const std::atomic<bool>* abort) const {
  SmtpSession session(*this);
  return session.Send(mail, abort);
}

// The easy handle and what it points to between transfers (libcurl keeps pointers to the
// recipient list and the error buffer).
struct SmtpSession::Handle {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl{curl_easy_init(), curl_easy_cleanup};
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> rcpt{nullptr, curl_slist_free_all};
  std::string from;
  char errbuf[CURL_ERROR_SIZE] = {0};
};

SmtpSession::SmtpSession(const Mailer& mailer) : mailer_(mailer) {}

SmtpSession::~SmtpSession() {
  // Ending the session says QUIT on a kept connection and waits for the answer (up to 120 s by
  // default): a relay that no longer answers must not hold up a shutdown.
  if (handle_) curl_easy_setopt(handle_->curl.get(), CURLOPT_SERVER_RESPONSE_TIMEOUT, 1L);
}

SendResult SmtpSession::Send(const OutgoingMail& mail, const std::atomic<bool>* abort) {
  const std::string message = mailer_.Build(mail);
  const std::string recipient = "<" + OneLine(mail.to_address) + ">";
  bool reused = false;
  SendResult result = Perform(message, recipient, abort, &reused);
  // A mail does not pay for the state of a connection it did not open: the server may have
  // closed it, or refuse to go on with it, and a new connection settles which.
  if (!result.ok && !result.aborted && reused) {
    result = Perform(message, recipient, abort, &reused);
  }
  return result;
}

SendResult SmtpSession::Perform(const std::string& message, const std::string& recipient,
                                const std::atomic<bool>* abort, bool* reused) {
  SendResult result;
  *reused = false;
  const SmtpConfig& config = mailer_.config();
  // The timeout bounds each wait; a large message gets time to travel at 100 kB/s or faster.
  const long timeout_ms = static_cast<long>(config.timeout.count());
  if (!handle_) {
    auto h = std::make_unique<Handle>();
    if (!h->curl) {
      result.error = "curl_easy_init failed";
      return result;
    }
    CURL* c = h->curl.get();
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
    curl_easy_setopt(c, CURLOPT_URL, config.url.c_str());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    if (config.starttls) curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
    if (!config.user.empty()) {
      curl_easy_setopt(c, CURLOPT_USERNAME, config.user.c_str());
      curl_easy_setopt(c, CURLOPT_PASSWORD, config.password.c_str());
    }
    h->from = "<" + config.from_address + ">";
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, h->from.c_str());
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, ReadUpload);
    handle_ = std::move(h);
  }
  CURL* c = handle_->curl.get();
  handle_->errbuf[0] = 0;
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
                   timeout_ms + static_cast<long>(message.size() / 100));  // 100 bytes per ms
  handle_->rcpt.reset(curl_slist_append(nullptr, recipient.c_str()));
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, handle_->rcpt.get());
  Upload upload{&message};
  curl_easy_setopt(c, CURLOPT_READDATA, &upload);
  curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
  if (abort != nullptr) {
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, AbortWhenAsked);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(abort));
  } else {
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 1L);
  }

  const CURLcode rc = curl_easy_perform(c);
  long connects = 0;
  curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects);
  connections_ += connects;
  *reused = connects == 0;
  if (rc == CURLE_OK) {
    result.ok = true;
    return result;
  }
  if (rc == CURLE_ABORTED_BY_CALLBACK) {
    result.aborted = true;
    result.error = "stopped";
  } else {
    long response = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response);
    result.error = std::string(curl_easy_strerror(rc)) +
                   (handle_->errbuf[0] ? std::string(": ") + handle_->errbuf : "");
    if (response >= 500 && response < 600) {
      result.permanent = true;
      result.error += " (SMTP " + std::to_string(response) + ")";
    }
  }
  // Whatever state the exchange left the connection in, the next mail starts on a new one.
  handle_.reset();
  return result;
}

}  // namespace ecd::notifications
