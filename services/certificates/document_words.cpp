#include "services/certificates/document_words.hpp"

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "common/time.hpp"

namespace ecd::certificates::document_detail {
namespace {

// ---------------------------------------------------------------------------------------------
// Words, in the participant's language.

const Words kEnglish = {
    "Certificate of participation",
    "This is to certify that",
    "took part in the webinar",
    "in the series “%s”",
    "Language: ",
    "Council of Europe, with EU Cyber Direct",
    "Issued on ",
    "Serial: ",
    "Verification code: ",
    "Signing key: ",
    "Name proof: ",
    "Scan to verify",
    "This project is funded by the European Union.",
    "minute",
    "minutes",
};

const Words kFrench = {
    "Certificat de participation",
    "Le Conseil de l'Europe certifie que",
    "a participé au webinaire",
    "de la série « %s »",
    "Langue : ",
    "Conseil de l'Europe, avec EU Cyber Direct",
    "Délivré le ",
    "Numéro de série : ",
    "Code de vérification : ",
    "Clé de signature : ",
    "Preuve du nom : ",
    "Scannez pour vérifier",
    "Ce projet est financé par l'Union européenne.",
    "minute",
    "minutes",
};

const Words kSpanish = {
    "Certificado de participación",
    "El Consejo de Europa certifica que",
    "ha participado en el seminario web",
    "de la serie «%s»",
    "Idioma: ",
    "Consejo de Europa, con EU Cyber Direct",
    "Expedido el ",
    "Número de serie: ",
    "Código de verificación: ",
    "Clave de firma: ",
    "Prueba del nombre: ",
    "Escanee para verificar",
    "Este proyecto está financiado por la Unión Europea.",
    "minuto",
    "minutos",
};

}  // namespace

const Words* WordsFor(const std::string& language) {
  if (language == "en") return &kEnglish;
  if (language == "fr") return &kFrench;
  if (language == "es") return &kSpanish;
  return nullptr;
}

// The event's language, named in the participant's language (en, fr, es).
std::string LanguageName(const std::string& code, const std::string& in) {
  struct Name {
    const char* code;
    const char* en;
    const char* fr;
    const char* es;
  };
  static const Name kNames[] = {
      {"en", "English", "anglais", "inglés"},
      {"fr", "French", "français", "francés"},
      {"es", "Spanish", "espagnol", "español"},
      {"pt", "Portuguese", "portugais", "portugués"},
      {"ar", "Arabic", "arabe", "árabe"},
      {"ru", "Russian", "russe", "ruso"},
      {"de", "German", "allemand", "alemán"},
      {"it", "Italian", "italien", "italiano"},
      {"uk", "Ukrainian", "ukrainien", "ucraniano"},
      {"tr", "Turkish", "turc", "turco"},
      {"zh", "Chinese", "chinois", "chino"},
  };
  for (const Name& n : kNames) {
    if (code == n.code) return in == "fr" ? n.fr : in == "es" ? n.es : n.en;
  }
  return code;
}

// ---------------------------------------------------------------------------------------------
// Dates and times.

Civil ToCivil(std::chrono::sys_seconds t) {
  auto days = std::chrono::floor<std::chrono::days>(t);
  std::chrono::year_month_day ymd(days);
  std::chrono::hh_mm_ss hms(t - days);
  return {static_cast<int>(ymd.year()), static_cast<int>(static_cast<unsigned>(ymd.month())),
          static_cast<int>(static_cast<unsigned>(ymd.day())), static_cast<int>(hms.hours().count()),
          static_cast<int>(hms.minutes().count())};
}

namespace {

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

std::string Clock(int hour, int minute) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d:%02d", hour, minute);
  return buf;
}

}  // namespace

std::optional<std::chrono::sys_days> ParseDate(std::string_view s) {
  int y, m, d;
  if (s.size() < 10 || !Digits(s, 0, 4, &y) || s[4] != '-' || !Digits(s, 5, 2, &m) || s[7] != '-' ||
      !Digits(s, 8, 2, &d)) {
    return std::nullopt;
  }
  std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(m), std::chrono::day(d)};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days(ymd);
}

// RFC 3339: "2020-07-09T08:00:00Z", with optional fractions and a numeric offset.
std::optional<std::chrono::sys_seconds> ParseTimestamp(std::string_view s) {
  auto date = ParseDate(s);
  int hh, mm, ss;
  if (!date || s.size() < 20 || (s[10] != 'T' && s[10] != 't') || !Digits(s, 11, 2, &hh) ||
      s[13] != ':' || !Digits(s, 14, 2, &mm) || s[16] != ':' || !Digits(s, 17, 2, &ss) || hh > 23 ||
      mm > 59 || ss > 60) {
    return std::nullopt;
  }
  size_t pos = 19;
  if (s[pos] == '.') {
    ++pos;
    size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == start) return std::nullopt;
  }
  int offset_minutes = 0;
  if (pos + 1 == s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    // UTC
  } else if (pos + 6 == s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!Digits(s, pos + 1, 2, &oh) || s[pos + 3] != ':' || !Digits(s, pos + 4, 2, &om) ||
        oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_minutes = (s[pos] == '+' ? 1 : -1) * (oh * 60 + om);
  } else {
    return std::nullopt;
  }
  return std::chrono::sys_seconds(*date) + std::chrono::hours(hh) + std::chrono::minutes(mm) +
         std::chrono::seconds(ss) - std::chrono::minutes(offset_minutes);
}

// "on 9 July 2020, 08:00–09:45 UTC (100 minutes)", in the participant's language.
std::string TimeSlot(const Civil& a, const Civil& b, int minutes, const std::string& language) {
  const Words& w = *WordsFor(language);
  const std::string duration =
      "(" + std::to_string(minutes) + " " + (minutes == 1 ? w.minute : w.minutes) + ")";
  const std::string da = ecd::DateInWords(a.year, a.month, a.day, language);
  const std::string ta = Clock(a.hour, a.minute);
  const std::string tb = Clock(b.hour, b.minute);
  if (a.year == b.year && a.month == b.month && a.day == b.day) {
    if (language == "fr") return "le " + da + ", de " + ta + " à " + tb + " UTC " + duration;
    if (language == "es") return "el " + da + ", de " + ta + " a " + tb + " UTC " + duration;
    return "on " + da + ", " + ta + "–" + tb + " UTC " + duration;
  }
  const std::string db = ecd::DateInWords(b.year, b.month, b.day, language);
  if (language == "fr") {
    return "du " + da + ", " + ta + ", au " + db + ", " + tb + " UTC " + duration;
  }
  if (language == "es") {
    return "del " + da + ", " + ta + ", al " + db + ", " + tb + " UTC " + duration;
  }
  return "from " + da + ", " + ta + " to " + db + ", " + tb + " UTC " + duration;
}

}  // namespace ecd::certificates::document_detail
