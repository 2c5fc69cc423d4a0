#include "services/notifications/mailer.hpp"

#include <curl/curl.h>

#include <ctime>
#include <memory>
#include <mutex>

#include "common/crypto.hpp"

namespace ecd::notifications {
namespace {

std::once_flag g_curl_init;

std::string Base64(const std::string& s) {
  // RFC 2047 needs standard base64 (+ and /, padded).
  std::string out = Base64UrlEncode(s);
  for (char& c : out) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  while (out.size() % 4 != 0) out += '=';
  return out;
}

bool IsAscii(const std::string& s) {
  for (unsigned char c : s) {
    if (c >= 0x80 || c < 0x20) return false;
  }
  return true;
}

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

}  // namespace

Mailer::Mailer(SmtpConfig config) : config_(std::move(config)) {
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string Mailer::EncodeHeader(const std::string& text) {
  std::string line = OneLine(text);
  if (IsAscii(line)) return line;
  return "=?UTF-8?B?" + Base64(line) + "?=";
}

SendResult Mailer::Send(const OutgoingMail& mail) const {
  SendResult result;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) {
    result.error = "curl_easy_init failed";
    return result;
  }
  CURL* c = curl.get();
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_URL, config_.url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.timeout.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(config_.timeout.count()));
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

  curl_slist* headers = nullptr;
  auto add = [&](const std::string& h) { headers = curl_slist_append(headers, h.c_str()); };
  add("Date: " + RfcDate());
  add("From: " + EncodeHeader(config_.from_name) + " <" + config_.from_address + ">");
  add("To: " + (mail.to_name.empty() ? std::string() : EncodeHeader(mail.to_name) + " ") + "<" +
      OneLine(mail.to_address) + ">");
  add("Subject: " + EncodeHeader(mail.subject));
  add("Message-ID: <" + OneLine(mail.message_id) + ">");
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_list(headers,
                                                                          curl_slist_free_all);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, header_list.get());

  std::unique_ptr<curl_mime, decltype(&curl_mime_free)> mime(curl_mime_init(c), curl_mime_free);
  curl_mimepart* text = curl_mime_addpart(mime.get());
  curl_mime_data(text, mail.text.data(), mail.text.size());
  curl_mime_type(text, "text/plain; charset=UTF-8");
  curl_mime_encoder(text, "quoted-printable");
  if (!mail.icalendar.empty()) {
    curl_mimepart* ics = curl_mime_addpart(mime.get());
    curl_mime_data(ics, mail.icalendar.data(), mail.icalendar.size());
    curl_mime_type(ics, mail.ical_cancel ? "text/calendar; charset=UTF-8; method=CANCEL"
                                         : "text/calendar; charset=UTF-8; method=REQUEST");
    curl_mime_filename(ics, mail.ical_cancel ? "cancel.ics" : "invite.ics");
    curl_mime_encoder(ics, "base64");
  }
  if (!mail.attachment_name.empty()) {
    curl_mimepart* file = curl_mime_addpart(mime.get());
    curl_mime_data(file, mail.attachment.data(), mail.attachment.size());
    curl_mime_type(file, mail.attachment_type.empty() ? "application/octet-stream"
                                                      : mail.attachment_type.c_str());
    curl_mime_filename(file, mail.attachment_name.c_str());
    curl_mime_encoder(file, "base64");
  }
  curl_easy_setopt(c, CURLOPT_MIMEPOST, mime.get());

  CURLcode rc = curl_easy_perform(c);
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
