#pragma once
// The certificate's words, in the participant's language (en, fr, es), and the text of the
// event's slot (its start and end times, RFC 3339, in words).
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace ecd::certificates::document_detail {

struct Words {
  const char* title;
  const char* certify;
  const char* took_part;
  const char* series;  // %s: the series title
  const char* language;
  const char* issuer;  // the issuer, when it is the usual one
  const char* issued_on;
  const char* serial;
  const char* verification_code;
  const char* key;
  const char* name_proof;  // the salt of the name's commitment
  const char* scan;
  const char* funded;
  const char* minute;
  const char* minutes;
};

// The issuer as the facts name it when it is the usual one, printed as Words::issuer.
inline constexpr std::string_view kUsualIssuer = "Council of Europe, with EU Cyber Direct";

// The words of `language` (en, fr, es), or null for another language.
const Words* WordsFor(const std::string& language);

// The event's language, named in the participant's language (en, fr, es).
std::string LanguageName(const std::string& code, const std::string& in);

struct Civil {
  int year, month, day, hour, minute;
};

Civil ToCivil(std::chrono::sys_seconds t);

// "2020-07-09" (and whatever follows it): the date, or nullopt.
std::optional<std::chrono::sys_days> ParseDate(std::string_view s);

// RFC 3339: "2020-07-09T08:00:00Z", with optional fractions and a numeric offset.
std::optional<std::chrono::sys_seconds> ParseTimestamp(std::string_view s);

// "on 9 July 2020, 08:00–09:45 UTC (100 minutes)", in the participant's language.
std::string TimeSlot(const Civil& a, const Civil& b, int minutes, const std::string& language);

}  // namespace ecd::certificates::document_detail
