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
  SendResult result;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) {
    result.error = "curl_easy_init failed";
    return result;
  }
  const std::string message = Build(mail);
  CURL* c = curl.get();
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_URL, config_.url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  // The timeout bounds each wait; a large message gets time to travel at 100 kB/s or faster.
  const long timeout_ms = static_cast<long>(config_.timeout.count());
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
                   timeout_ms + static_cast<long>(message.size() / 100));  // 100 bytes per ms
  if (config_.starttls) curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  if (!config_.user.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, config_.user.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, config_.password.c_str());
  }
  const std::string from = "<" + config_.from_address + ">";
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> rcpt(
      curl_slist_append(nullptr, ("<" + OneLine(mail.to_address) + ">").c_str()),
      curl_slist_free_all);
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt.get());
  Upload upload{&message};
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, ReadUpload);
  curl_easy_setopt(c, CURLOPT_READDATA, &upload);
  curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));

  if (abort != nullptr) {
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, AbortWhenAsked);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(abort));
  }
  CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_ABORTED_BY_CALLBACK) {
    result.aborted = true;
    result.error = "stopped";
    return result;
  }
  long response = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response);
  if (rc == CURLE_OK) {
    result.ok = true;
    return result;
  }
  result.error =
      std::string(curl_easy_strerror(rc)) + (errbuf[0] ? std::string(": ") + errbuf : "");
  if (response >= 500 && response < 600) {
    result.permanent = true;
    result.error += " (SMTP " + std::to_string(response) + ")";
  }
  return result;
}

}  // namespace ecd::notifications
