#include "services/certificates/document.hpp"

#include <hpdf.h>
#include <qrencode.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <string_view>
#include <type_traits>
#include <vector>

namespace ecd::certificates {
namespace {

// ---------------------------------------------------------------------------------------------
// Words, in the participant's language.

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
  const char* scan;
  const char* funded;
  const char* minute;
  const char* minutes;
  const char* months[12];
};

constexpr std::string_view kUsualIssuer = "Council of Europe, with EU Cyber Direct";

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
    "Scan to verify",
    "This project is funded by the European Union.",
    "minute",
    "minutes",
    {"January", "February", "March", "April", "May", "June", "July", "August", "September",
     "October", "November", "December"},
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
    "Scannez pour vérifier",
    "Ce projet est financé par l'Union européenne.",
    "minute",
    "minutes",
    {"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
     "octobre", "novembre", "décembre"},
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
    "Escanee para verificar",
    "Este proyecto está financiado por la Unión Europea.",
    "minuto",
    "minutos",
    {"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
     "octubre", "noviembre", "diciembre"},
};

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

struct Civil {
  int year, month, day, hour, minute;
};

Civil ToCivil(std::chrono::sys_seconds t) {
  auto days = std::chrono::floor<std::chrono::days>(t);
  std::chrono::year_month_day ymd(days);
  std::chrono::hh_mm_ss hms(t - days);
  return {static_cast<int>(ymd.year()), static_cast<int>(static_cast<unsigned>(ymd.month())),
          static_cast<int>(static_cast<unsigned>(ymd.day())), static_cast<int>(hms.hours().count()),
          static_cast<int>(hms.minutes().count())};
}

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

std::string DateInWords(int year, int month, int day, const std::string& language) {
  const Words& w = *WordsFor(language);
  const std::string y = std::to_string(year);
  const std::string d = std::to_string(day);
  const std::string m = w.months[month - 1];
  if (language == "fr") return (day == 1 ? "1er" : d) + " " + m + " " + y;
  if (language == "es") return d + " de " + m + " de " + y;
  return d + " " + m + " " + y;
}

std::string Clock(int hour, int minute) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d:%02d", hour, minute);
  return buf;
}

// "on 9 July 2020, 08:00–09:45 UTC (100 minutes)", in the participant's language.
std::string TimeSlot(const Civil& a, const Civil& b, int minutes, const std::string& language) {
  const Words& w = *WordsFor(language);
  const std::string duration =
      "(" + std::to_string(minutes) + " " + (minutes == 1 ? w.minute : w.minutes) + ")";
  const std::string da = DateInWords(a.year, a.month, a.day, language);
  const std::string ta = Clock(a.hour, a.minute);
  const std::string tb = Clock(b.hour, b.minute);
  if (a.year == b.year && a.month == b.month && a.day == b.day) {
    if (language == "fr") return "le " + da + ", de " + ta + " à " + tb + " UTC " + duration;
    if (language == "es") return "el " + da + ", de " + ta + " a " + tb + " UTC " + duration;
    return "on " + da + ", " + ta + "–" + tb + " UTC " + duration;
  }
  const std::string db = DateInWords(b.year, b.month, b.day, language);
  if (language == "fr") {
    return "du " + da + ", " + ta + ", au " + db + ", " + tb + " UTC " + duration;
  }
  if (language == "es") {
    return "del " + da + ", " + ta + ", al " + db + ", " + tb + " UTC " + duration;
  }
  return "from " + da + ", " + ta + " to " + db + ", " + tb + " UTC " + duration;
}

// ---------------------------------------------------------------------------------------------
// libharu.

struct HpdfErrors {
  HPDF_STATUS error = HPDF_OK;
  HPDF_STATUS detail = 0;
};

// libharu is C: it reports through this callback and returns an error code; nothing may be
// thrown across it. The first error is kept (later ones are usually consequences).
void RecordHpdfError(HPDF_STATUS error, HPDF_STATUS detail, void* user_data) {
  auto* errors = static_cast<HpdfErrors*>(user_data);
  if (errors->error == HPDF_OK) {
    errors->error = error;
    errors->detail = detail;
  }
}

struct DocFree {
  void operator()(HPDF_Doc d) const { HPDF_Free(d); }
};
using DocPtr = std::unique_ptr<std::remove_pointer_t<HPDF_Doc>, DocFree>;
struct QrFree {
  void operator()(QRcode* q) const { QRcode_free(q); }
};
using QrPtr = std::unique_ptr<QRcode, QrFree>;

struct Color {
  float r, g, b;
};
constexpr Color kNavy = {0.059f, 0.200f, 0.420f};  // Council of Europe blue, roughly
constexpr Color kGold = {0.780f, 0.620f, 0.180f};  // a thin inner rule
constexpr Color kInk = {0.110f, 0.110f, 0.130f};
constexpr Color kGrey = {0.350f, 0.350f, 0.380f};

// A4 landscape, in points.
constexpr float kPageWidth = 841.89f;
constexpr float kPageHeight = 595.276f;
constexpr float kTextWidth = kPageWidth - 2 * 90;

class Painter {
 public:
  Painter(HPDF_Page page, HPDF_Font regular, HPDF_Font bold)
      : page_(page), regular_(regular), bold_(bold) {}

  // Without touching the page: libharu measures UTF-8 with the font's own widths.
  float Width(const std::string& text, bool bold, float size) const {
    HPDF_TextWidth w = HPDF_Font_TextWidth(bold ? bold_ : regular_,
                                           reinterpret_cast<const HPDF_BYTE*>(text.data()),
                                           static_cast<HPDF_UINT>(text.size()));
    return static_cast<float>(w.width) * size / 1000;
  }

  // `size`, or less if the text would be wider than `width` at that size.
  float FitSize(const std::string& text, bool bold, float size, float width) const {
    const float w = Width(text, bold, size);
    return w > width ? size * width / w : size;
  }

  void Text(const std::string& text, float x, float y, bool bold, float size, Color c) const {
    HPDF_Page_SetRGBFill(page_, c.r, c.g, c.b);
    HPDF_Page_BeginText(page_);
    HPDF_Page_SetFontAndSize(page_, bold ? bold_ : regular_, size);
    HPDF_Page_TextOut(page_, x, y, text.c_str());
    HPDF_Page_EndText(page_);
  }

  void Centered(const std::string& text, float y, bool bold, float size, Color c) const {
    Text(text, (kPageWidth - Width(text, bold, size)) / 2, y, bold, size, c);
  }

  // Lines of at most `width` points, broken at spaces; a word wider than `width` gets a line of
  // its own (the caller shrinks the size until it fits).
  std::vector<std::string> Wrap(const std::string& text, bool bold, float size, float width) const {
    std::vector<std::string> lines;
    std::string line;
    size_t i = 0;
    while (i <= text.size()) {
      size_t j = text.find(' ', i);
      if (j == std::string::npos) j = text.size();
      std::string word = text.substr(i, j - i);
      i = j + 1;
      if (word.empty()) continue;
      std::string candidate = line.empty() ? word : line + " " + word;
      if (!line.empty() && Width(candidate, bold, size) > width) {
        lines.push_back(line);
        line = word;
      } else {
        line = candidate;
      }
    }
    if (!line.empty()) lines.push_back(line);
    return lines;
  }

  // Draws `text` centred from the baseline `y` down, on at most `max_lines` lines, shrinking
  // from `size` down to `min_size` until it fits; text that still does not fit is put on
  // `max_lines` lines and shrunk further, so that nothing ever leaves its place. Returns the
  // baseline of the last line.
  float Block(const std::string& text, float y, bool bold, float size, float min_size,
              int max_lines, Color c) const {
    std::vector<std::string> lines;
    for (;; size -= 0.5f) {
      lines = Wrap(text, bold, size, kTextWidth);
      if (static_cast<int>(lines.size()) <= max_lines && Widest(lines, bold, size) <= kTextWidth) {
        break;
      }
      if (size - 0.5f < min_size) {
        while (static_cast<int>(lines.size()) > max_lines) {
          std::string last = lines.back();
          lines.pop_back();
          lines.back() += " " + last;
        }
        size *= std::min(1.0f, kTextWidth / Widest(lines, bold, size));
        break;
      }
    }
    float leading = size * 1.25f;
    for (size_t k = 0; k < lines.size(); ++k) {
      Centered(lines[k], y - leading * static_cast<float>(k), bold, size, c);
    }
    return y - leading * static_cast<float>(lines.empty() ? 0 : lines.size() - 1);
  }

  float Widest(const std::vector<std::string>& lines, bool bold, float size) const {
    float widest = 0;
    for (const std::string& l : lines) widest = std::max(widest, Width(l, bold, size));
    return widest;
  }

  void Frame(float inset, float line_width, Color c) {
    HPDF_Page_SetRGBStroke(page_, c.r, c.g, c.b);
    HPDF_Page_SetLineWidth(page_, line_width);
    HPDF_Page_Rectangle(page_, inset, inset, kPageWidth - 2 * inset, kPageHeight - 2 * inset);
    HPDF_Page_Stroke(page_);
  }

  // The QR code with its 4-module quiet zone, `size` points wide in all, with its lower right
  // corner at (right, bottom). Dark modules are filled rectangles, merged along each row so that
  // no seams appear between neighbours when rasterised.
  void Qr(const QRcode& qr, float right, float bottom, float size) {
    const int quiet = 4;
    const int n = qr.width;
    const float module = size / static_cast<float>(n + 2 * quiet);
    const float left = right - size;
    HPDF_Page_SetRGBFill(page_, 1, 1, 1);
    HPDF_Page_Rectangle(page_, left, bottom, size, size);
    HPDF_Page_Fill(page_);
    HPDF_Page_SetRGBFill(page_, 0, 0, 0);
    for (int row = 0; row < n; ++row) {
      const float y = bottom + module * static_cast<float>(n + quiet - 1 - row);
      for (int col = 0; col < n;) {
        if ((qr.data[row * n + col] & 1) == 0) {
          ++col;
          continue;
        }
        int end = col;
        while (end < n && (qr.data[row * n + end] & 1) != 0) ++end;
        HPDF_Page_Rectangle(page_, left + module * static_cast<float>(quiet + col), y,
                            module * static_cast<float>(end - col), module);
        col = end;
      }
    }
    HPDF_Page_Fill(page_);
  }

 private:
  HPDF_Page page_;
  HPDF_Font regular_;
  HPDF_Font bold_;
};

// libharu 2.3.0 reads a TrueType file's table directory without bounds checks and crashes on a
// file that is not a font; so the file is looked at first: a TrueType sfnt whose table records
// stay inside the file and that has the tables libharu needs.
Status CheckTrueTypeFile(const std::string& path) {
  auto bad = [&](const std::string& why) {
    return Status::Internal("cannot use the font " + path + ": " + why);
  };
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return bad("cannot open it");
  const auto file_size = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  auto u16 = [](const unsigned char* p) { return static_cast<uint32_t>(p[0] << 8 | p[1]); };
  auto u32 = [&](const unsigned char* p) { return u16(p) << 16 | u16(p + 2); };
  unsigned char header[12];
  if (!in.read(reinterpret_cast<char*>(header), sizeof header)) return bad("not a TrueType font");
  const uint32_t version = u32(header);
  const uint32_t tables = u16(header + 4);
  if ((version != 0x00010000 && version != 0x74727565 /* "true" */) || tables == 0 ||
      tables > 256) {
    return bad("not a TrueType font");
  }
  std::vector<unsigned char> records(16 * tables);
  if (!in.read(reinterpret_cast<char*>(records.data()),
               static_cast<std::streamsize>(records.size()))) {
    return bad("truncated table directory");
  }
  std::vector<std::string> names;
  for (uint32_t i = 0; i < tables; ++i) {
    const unsigned char* r = records.data() + 16 * i;
    const uint64_t offset = u32(r + 8);
    const uint64_t length = u32(r + 12);
    if (offset + length > file_size) return bad("a table lies outside the file");
    names.emplace_back(reinterpret_cast<const char*>(r), 4);
  }
  for (const char* need : {"cmap", "glyf", "head", "hhea", "hmtx", "loca", "maxp", "name"}) {
    if (std::find(names.begin(), names.end(), need) == names.end()) {
      return bad(std::string("no '") + need + "' table");
    }
  }
  return Status::Ok();
}

Status HpdfFailure(const HpdfErrors& errors, const std::string& doing) {
  char code[48];
  std::snprintf(code, sizeof code, "libharu error 0x%04X (detail %u)",
                static_cast<unsigned>(errors.error), static_cast<unsigned>(errors.detail));
  return Status::Internal(doing + ": " + code);
}

}  // namespace

StatusOr<std::string> RenderCertificatePdf(const CertifiedFacts& facts,
                                           const DocumentOptions& options) {
  const Words* words = WordsFor(options.language);
  if (words == nullptr) {
    return Status::InvalidArgument("language",
                                   "must be en, fr or es, not \"" + options.language + "\"");
  }
  const std::string& lang = options.language;
  const std::string qr_text = options.qr_text.empty() ? facts.verification_code : options.qr_text;
  if (qr_text.empty()) return Status::InvalidArgument("qr_text", "nothing to put in the QR code");
  auto start = ParseTimestamp(facts.event_start);
  if (!start) return Status::InvalidArgument("event_start", "must be an RFC 3339 timestamp");
  auto end = ParseTimestamp(facts.event_end);
  if (!end || *end < *start) {
    return Status::InvalidArgument("event_end", "must be an RFC 3339 timestamp after the start");
  }
  auto issued = ParseDate(facts.issue_date);
  if (!issued || facts.issue_date.size() != 10) {
    return Status::InvalidArgument("issue_date", "must be a date like 2020-07-10");
  }

  QrPtr qr(QRcode_encodeString(qr_text.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1));
  if (!qr) return Status::InvalidArgument("qr_text", "too long for a QR code");

  ECD_RETURN_IF_ERROR(CheckTrueTypeFile(options.font_path));
  ECD_RETURN_IF_ERROR(CheckTrueTypeFile(options.bold_font_path));

  HpdfErrors errors;
  DocPtr doc(HPDF_New(&RecordHpdfError, &errors));
  if (!doc) return Status::Internal("libharu could not create a document");
  HPDF_Doc pdf = doc.get();
  HPDF_SetCompressionMode(pdf, HPDF_COMP_ALL);
  HPDF_UseUTFEncodings(pdf);
  HPDF_SetCurrentEncoder(pdf, "UTF-8");
  const char* regular_name = HPDF_LoadTTFontFromFile(pdf, options.font_path.c_str(), HPDF_TRUE);
  const char* bold_name =
      regular_name == nullptr
          ? nullptr
          : HPDF_LoadTTFontFromFile(pdf, options.bold_font_path.c_str(), HPDF_TRUE);
  if (regular_name == nullptr || bold_name == nullptr || errors.error != HPDF_OK) {
    return HpdfFailure(
        errors, "cannot load the fonts " + options.font_path + " and " + options.bold_font_path);
  }
  HPDF_Font regular = HPDF_GetFont(pdf, regular_name, "UTF-8");
  HPDF_Font bold = HPDF_GetFont(pdf, bold_name, "UTF-8");
  HPDF_Page page = HPDF_AddPage(pdf);
  if (regular == nullptr || bold == nullptr || page == nullptr || errors.error != HPDF_OK) {
    return HpdfFailure(errors, "cannot prepare the page");
  }
  HPDF_Page_SetSize(page, HPDF_PAGE_SIZE_A4, HPDF_PAGE_LANDSCAPE);

  // The document's own metadata: reproducible (the issue date, not the time of rendering).
  const auto issued_civil = ToCivil(std::chrono::sys_seconds(*issued));
  HPDF_Date date = {issued_civil.year, issued_civil.month, issued_civil.day, 0, 0, 0, 'Z', 0, 0};
  HPDF_SetInfoDateAttr(pdf, HPDF_INFO_CREATION_DATE, date);
  HPDF_SetInfoAttr(pdf, HPDF_INFO_CREATOR, "ECD events certificates");
  const std::string issuer =
      facts.issuer == kUsualIssuer ? std::string(words->issuer) : facts.issuer;
  const std::string title = std::string(words->title) + " – " + facts.participant_name;
  HPDF_SetInfoAttr(pdf, HPDF_INFO_TITLE, title.c_str());
  HPDF_SetInfoAttr(pdf, HPDF_INFO_SUBJECT, facts.event_title.c_str());
  HPDF_SetInfoAttr(pdf, HPDF_INFO_AUTHOR, issuer.c_str());
  HPDF_SetInfoAttr(pdf, HPDF_INFO_KEYWORDS, facts.serial.c_str());

  Painter p(page, regular, bold);
  p.Frame(22, 2.5f, kNavy);
  p.Frame(30, 0.8f, kGold);

  p.Centered(words->title, 490, true, 32, kNavy);
  p.Centered(words->certify, 445, false, 15, kInk);
  p.Block(facts.participant_name, 400, true, 30, 12, 1, kInk);
  p.Centered(words->took_part, 362, false, 15, kInk);
  float y = p.Block(facts.event_title, 332, true, 19, 10, 2, kNavy);

  std::string series = words->series;
  series.replace(series.find("%s"), 2, facts.series_title);
  y = p.Block(series, y - 30, false, 14, 8, 2, kInk);
  const std::string slot = TimeSlot(ToCivil(*start), ToCivil(*end), facts.duration_minutes, lang);
  y = p.Block(slot, y - 22, false, 14, 8, 1, kInk);
  p.Block(words->language + LanguageName(facts.language, lang), y - 22, false, 14, 8, 1, kInk);

  // Lower left, up to the QR code: who issued it and when, then the small print for
  // verification.
  const float left = 70;
  const float width = 520;
  p.Text(issuer, left, 150, true, p.FitSize(issuer, true, 12.5f, width), kNavy);
  const std::string issued_on =
      words->issued_on + DateInWords(issued_civil.year, issued_civil.month, issued_civil.day, lang);
  p.Text(issued_on, left, 133, false, 11.5f, kInk);
  for (const auto& [text, y] : {std::pair{words->serial + facts.serial, 104.0f},
                                {words->verification_code + facts.verification_code, 92.0f},
                                {words->key + facts.key_id, 80.0f}}) {
    p.Text(text, left, y, false, p.FitSize(text, false, 8.5f, width), kGrey);
  }

  // Lower right: the QR code and what to do with it.
  const float qr_right = kPageWidth - 60;
  const float qr_bottom = 62;
  const float qr_size = 112;
  p.Qr(*qr, qr_right, qr_bottom, qr_size);
  const float caption_width = p.Width(words->scan, false, 8);
  p.Text(words->scan, qr_right - qr_size / 2 - caption_width / 2, qr_bottom - 10, false, 8, kGrey);

  p.Centered(words->funded, 46, false, 9.5f, kGrey);

  if (errors.error != HPDF_OK) return HpdfFailure(errors, "cannot draw the certificate");
  if (HPDF_SaveToStream(pdf) != HPDF_OK || errors.error != HPDF_OK) {
    return HpdfFailure(errors, "cannot write the PDF");
  }
  HPDF_UINT32 size = HPDF_GetStreamSize(pdf);
  std::string out(size, '\0');
  HPDF_UINT32 read = size;
  HPDF_ReadFromStream(pdf, reinterpret_cast<HPDF_BYTE*>(out.data()), &read);
  if (read != size || errors.error != HPDF_OK) return HpdfFailure(errors, "cannot read the PDF");
  return out;
}

}  // namespace ecd::certificates
