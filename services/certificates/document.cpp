#include "services/certificates/document.hpp"

#include <cairo-pdf.h>
#include <cairo.h>
#include <fribidi.h>
#include <pango/pangocairo.h>
#include <qrencode.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/time.hpp"
#include "services/certificates/document_fonts.hpp"
#include "services/certificates/document_words.hpp"
#include "services/certificates/payload.hpp"

namespace ecd::certificates {
namespace {

using document_detail::Cjk;
using document_detail::CjkOf;
using document_detail::FontSet;
using document_detail::GPtr;
using document_detail::kFamily;
using document_detail::kUsualIssuer;
using document_detail::LanguageName;
using document_detail::NewContext;
using document_detail::ParseDate;
using document_detail::ParseTimestamp;
using document_detail::TimeSlot;
using document_detail::ToCivil;
using document_detail::Words;
using document_detail::WordsFor;

// ---------------------------------------------------------------------------------------------
// Text: layouts in the document's fonts, and the checks and forms of the texts printed.

// One paragraph of `text` in Noto Sans, `size` points, its direction from its first strong
// character (Pango's auto direction), wrapped at word boundaries to `wrap_width` if positive.
GPtr<PangoLayout> NewLayout(PangoContext* context, const std::string& text, bool bold, double size,
                            double wrap_width = 0) {
  GPtr<PangoLayout> layout(pango_layout_new(context));
  PangoFontDescription* font = pango_font_description_new();
  const std::optional<Cjk> cjk = CjkOf(text);
  // Noto Sans first; then, for Han, the face of the text's language rather than whichever
  // fontconfig sorts first.
  pango_font_description_set_family(
      font, cjk ? (std::string(kFamily) + "," + cjk->family).c_str() : kFamily);
  pango_font_description_set_weight(font, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
  pango_font_description_set_absolute_size(font, size * PANGO_SCALE);  // points: user units
  pango_layout_set_font_description(layout.get(), font);
  pango_font_description_free(font);
  pango_layout_set_auto_dir(layout.get(), TRUE);
  pango_layout_set_text(layout.get(), text.data(), static_cast<int>(text.size()));
  if (cjk) {
    PangoAttrList* attrs = pango_attr_list_new();
    pango_attr_list_insert(attrs,
                           pango_attr_language_new(pango_language_from_string(cjk->language)));
    pango_layout_set_attributes(layout.get(), attrs);
    pango_attr_list_unref(attrs);
  }
  if (wrap_width > 0) {
    pango_layout_set_width(layout.get(), static_cast<int>(wrap_width * PANGO_SCALE));
    pango_layout_set_wrap(layout.get(), PANGO_WRAP_WORD);
  }
  return layout;
}

// How the name is printed, as far as the fonts are concerned.
int UnknownGlyphsOfName(PangoContext* context, const std::string& name) {
  return pango_layout_get_unknown_glyphs_count(NewLayout(context, name, true, 30).get());
}

// A line or paragraph separator (U+2028, U+2029), which Pango would break the line at.
bool IsSeparator(gunichar c) {
  const GUnicodeType type = g_unichar_type(c);
  return type == G_UNICODE_LINE_SEPARATOR || type == G_UNICODE_PARAGRAPH_SEPARATOR;
}

// Control characters (line breaks, tabs ...) and separators of the facts become spaces: every
// text is one paragraph. `text` is UTF-8.
std::string OneParagraph(const std::string& text) {
  std::string out;
  for (const char* p = text.c_str(); *p != '\0'; p = g_utf8_next_char(p)) {
    const gunichar c = g_utf8_get_char(p);
    if (g_unichar_iscntrl(c) || IsSeparator(c)) {
      out += ' ';
    } else {
      out.append(p, static_cast<size_t>(g_utf8_next_char(p) - p));
    }
  }
  return out;
}

bool IsUtf8(const std::string& s) {
  return g_utf8_validate(s.data(), static_cast<gssize>(s.size()), nullptr);  // and no NUL
}

// The name is printed as the holder gave it: it must be text, and visible.
Status CheckName(const std::string& name) {
  if (!IsUtf8(name)) return Status::InvalidArgument("participant_name", "is not UTF-8");
  bool visible = false;
  for (const char* p = name.c_str(); *p != '\0'; p = g_utf8_next_char(p)) {
    const gunichar c = g_utf8_get_char(p);
    if (g_unichar_iscntrl(c) || IsSeparator(c)) {
      return Status::InvalidArgument("participant_name", "must be one line of text");
    }
    visible = visible || !g_unichar_isspace(c);
  }
  if (!visible) return Status::InvalidArgument("participant_name", "must not be empty");
  return Status::Ok();
}

// `name`, isolated (U+2068 ... U+2069) if it holds right-to-left characters, so that it keeps
// its own direction inside a sentence of the other direction (the document's title).
std::string Isolated(const std::string& name) {
  for (const char* p = name.c_str(); *p != '\0'; p = g_utf8_next_char(p)) {
    if (FRIBIDI_IS_RTL_LETTER(fribidi_get_bidi_type(g_utf8_get_char(p)))) {  // R, AL
      return "\u2068" + name + "\u2069";
    }
  }
  return name;
}

// ---------------------------------------------------------------------------------------------
// Cairo.

struct SurfaceDestroy {
  void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
};
struct CairoDestroy {
  void operator()(cairo_t* cr) const { cairo_destroy(cr); }
};
struct QrFree {
  void operator()(QRcode* q) const { QRcode_free(q); }
};
using QrPtr = std::unique_ptr<QRcode, QrFree>;

cairo_status_t AppendToString(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

struct Color {
  double r, g, b;
};
constexpr Color kNavy = {0.059, 0.200, 0.420};  // Council of Europe blue, roughly
constexpr Color kGold = {0.780, 0.620, 0.180};  // a thin inner rule
constexpr Color kInk = {0.110, 0.110, 0.130};
constexpr Color kGrey = {0.350, 0.350, 0.380};

// A4 landscape, in points. Positions below are PDF-style, from the bottom left corner; Cairo's
// y axis goes down, which the painter takes care of.
constexpr double kPageWidth = 841.89;
constexpr double kPageHeight = 595.276;
constexpr double kTextWidth = kPageWidth - 2 * 90;

class Painter {
 public:
  Painter(cairo_t* cr, PangoContext* context) : cr_(cr), context_(context) {}

  GPtr<PangoLayout> Layout(const std::string& text, bool bold, double size,
                           double wrap_width = 0) const {
    return NewLayout(context_, text, bold, size, wrap_width);
  }

  // The logical width, in points.
  static double Width(PangoLayoutLine* line) {
    PangoRectangle logical;
    pango_layout_line_get_extents(line, nullptr, &logical);
    return static_cast<double>(logical.width) / PANGO_SCALE;
  }
  static double Width(PangoLayout* layout) {
    PangoRectangle logical;
    pango_layout_get_extents(layout, nullptr, &logical);
    return static_cast<double>(logical.width) / PANGO_SCALE;
  }

  double Width(const std::string& text, bool bold, double size) const {
    return Width(Layout(text, bold, size).get());
  }

  // `size`, or less if the text would be wider than `width` at that size.
  double FitSize(const std::string& text, bool bold, double size, double width) const {
    double w = Width(text, bold, size);
    // Widths are proportional to the size (no hinting in a PDF), up to rounding.
    while (w > width) {
      size *= width / w * 0.999;
      w = Width(text, bold, size);
    }
    return size;
  }

  // A line of a layout, its logical left edge at `x` and its baseline at `y`. The line is
  // drawn in visual order (Pango's bidi), as text with its characters in logical order.
  void Line(PangoLayoutLine* line, double x, double y, Color c) const {
    PangoRectangle logical;
    pango_layout_line_get_extents(line, nullptr, &logical);
    cairo_set_source_rgb(cr_, c.r, c.g, c.b);
    cairo_move_to(cr_, x - static_cast<double>(logical.x) / PANGO_SCALE, kPageHeight - y);
    pango_cairo_show_layout_line(cr_, line);
  }

  void Text(const std::string& text, double x, double y, bool bold, double size, Color c) const {
    auto layout = Layout(text, bold, size);
    Line(pango_layout_get_line_readonly(layout.get(), 0), x, y, c);
  }

  void Centered(const std::string& text, double y, bool bold, double size, Color c) const {
    auto layout = Layout(text, bold, size);
    PangoLayoutLine* line = pango_layout_get_line_readonly(layout.get(), 0);
    Line(line, (kPageWidth - Width(line)) / 2, y, c);
  }

  // Draws `text` centred from the baseline `y` down: on one line shrunk from `size` until it
  // fits if `max_lines` is 1; else broken at word boundaries into at most `max_lines` lines,
  // shrinking from `size` until it fits, so that nothing ever leaves its place. Returns the
  // baseline of the last line.
  double Block(const std::string& text, double y, bool bold, double size, int max_lines,
               Color c) const {
    if (max_lines <= 1) {
      Centered(text, y, bold, FitSize(text, bold, size, kTextWidth), c);
      return y;
    }
    GPtr<PangoLayout> layout;
    for (;; size -= 0.5) {
      layout = Layout(text, bold, size, kTextWidth);
      if ((pango_layout_get_line_count(layout.get()) <= max_lines &&
           Width(layout.get()) <= kTextWidth) ||
          size <= 1) {
        break;
      }
    }
    const double leading = size * 1.25;
    int k = 0;
    for (GSList* l = pango_layout_get_lines_readonly(layout.get()); l != nullptr; l = l->next) {
      auto* line = static_cast<PangoLayoutLine*>(l->data);
      Line(line, (kPageWidth - Width(line)) / 2, y - leading * k++, c);
    }
    return y - leading * (k > 0 ? k - 1 : 0);
  }

  void Frame(double inset, double line_width, Color c) const {
    cairo_set_source_rgb(cr_, c.r, c.g, c.b);
    cairo_set_line_width(cr_, line_width);
    cairo_rectangle(cr_, inset, inset, kPageWidth - 2 * inset, kPageHeight - 2 * inset);
    cairo_stroke(cr_);
  }

  // The QR code with its 4-module quiet zone, `size` points wide in all, with its lower right
  // corner at (right, bottom). Dark modules are rectangles of one path, merged along each row,
  // so that no seams appear between neighbours when rasterised.
  void Qr(const QRcode& qr, double right, double bottom, double size) const {
    const int quiet = 4;
    const int n = qr.width;
    const double module = size / (n + 2 * quiet);
    const double left = right - size;
    const double top = kPageHeight - bottom - size;
    cairo_set_source_rgb(cr_, 1, 1, 1);
    cairo_rectangle(cr_, left, top, size, size);
    cairo_fill(cr_);
    cairo_set_source_rgb(cr_, 0, 0, 0);
    for (int row = 0; row < n; ++row) {
      for (int col = 0; col < n;) {
        if ((qr.data[row * n + col] & 1) == 0) {
          ++col;
          continue;
        }
        int end = col;
        while (end < n && (qr.data[row * n + end] & 1) != 0) ++end;
        cairo_rectangle(cr_, left + module * (quiet + col), top + module * (quiet + row),
                        module * (end - col), module);
        col = end;
      }
    }
    cairo_fill(cr_);
  }

 private:
  cairo_t* cr_;
  PangoContext* context_;
};

}  // namespace

StatusOr<int> UnknownGlyphs(const std::string& text, const DocumentOptions& options) {
  if (!IsUtf8(text)) return Status::InvalidArgument("text", "is not UTF-8");
  ECD_ASSIGN_OR_RETURN(auto fonts, FontSet::Get(options.font_files.empty() ? DefaultFontFiles()
                                                                           : options.font_files));
  std::lock_guard lock(fonts->mutex());
  auto context = NewContext(
      fonts->map(), WordsFor(options.language) != nullptr ? options.language : std::string("en"));
  return UnknownGlyphsOfName(context.get(), text);
}

StatusOr<std::string> RenderCertificatePdf(const CertifiedFacts& facts, const Holder& holder,
                                           const DocumentOptions& options) {
  const Words* words = WordsFor(options.language);
  if (words == nullptr) {
    return Status::InvalidArgument("language",
                                   "must be en, fr or es, not \"" + options.language + "\"");
  }
  const std::string& lang = options.language;
  ECD_RETURN_IF_ERROR(CheckName(holder.name));
  for (const auto& [field, value] :
       {std::pair<const char*, const std::string&>{"serial", facts.serial},
        {"verification_code", facts.verification_code},
        {"event_title", facts.event_title},
        {"series_title", facts.series_title},
        {"issuer", facts.issuer},
        {"key_id", facts.key_id},
        {"qr_text", options.qr_text}}) {
    if (!IsUtf8(value)) return Status::InvalidArgument(field, "is not UTF-8");
  }
  for (char c : holder.salt) {
    if (!g_ascii_isalnum(c) && c != '-' && c != '_' && c != '=') {
      return Status::InvalidArgument("salt", "must be base64url");
    }
  }
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

  ECD_ASSIGN_OR_RETURN(auto fonts, FontSet::Get(options.font_files.empty() ? DefaultFontFiles()
                                                                           : options.font_files));
  std::lock_guard lock(fonts->mutex());
  auto context = NewContext(fonts->map(), lang);

  // Nothing is drawn for a name the fonts cannot draw: no certificate with boxes in the name.
  if (const int unknown = UnknownGlyphsOfName(context.get(), holder.name); unknown > 0) {
    return Status::InvalidArgument("participant_name",
                                   "has " + std::to_string(unknown) +
                                       " character(s) that no font of the certificate can draw");
  }

  std::string out;
  std::unique_ptr<cairo_surface_t, SurfaceDestroy> surface(
      cairo_pdf_surface_create_for_stream(&AppendToString, &out, kPageWidth, kPageHeight));
  if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS) {
    return Status::Internal(std::string("cannot create the PDF: ") +
                            cairo_status_to_string(cairo_surface_status(surface.get())));
  }

  // The document's own metadata: reproducible (the issue date, not the time of rendering).
  const std::string issuer =
      facts.issuer == kUsualIssuer ? std::string(words->issuer) : OneParagraph(facts.issuer);
  const std::string title = std::string(words->title) + " – " + Isolated(holder.name);
  const std::string creation_date = facts.issue_date + "T00:00:00Z";
  cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_TITLE, title.c_str());
  cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_AUTHOR, issuer.c_str());
  cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_SUBJECT,
                                 OneParagraph(facts.event_title).c_str());
  cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_KEYWORDS,
                                 OneParagraph(facts.serial).c_str());
  cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_CREATOR,
                                 "ECD events certificates");
  cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_CREATE_DATE,
                                 creation_date.c_str());

  {
    std::unique_ptr<cairo_t, CairoDestroy> cr(cairo_create(surface.get()));
    pango_cairo_update_context(cr.get(), context.get());
    Painter p(cr.get(), context.get());
    p.Frame(22, 2.5, kNavy);
    p.Frame(30, 0.8, kGold);

    p.Centered(words->title, 490, true, 32, kNavy);
    p.Centered(words->certify, 445, false, 15, kInk);
    p.Block(holder.name, 400, true, 30, 1, kInk);
    p.Centered(words->took_part, 362, false, 15, kInk);
    double y = p.Block(OneParagraph(facts.event_title), 332, true, 19, 2, kNavy);

    std::string series = words->series;
    series.replace(series.find("%s"), 2, OneParagraph(facts.series_title));
    y = p.Block(series, y - 30, false, 14, 2, kInk);
    const std::string slot = TimeSlot(ToCivil(*start), ToCivil(*end), facts.duration_minutes, lang);
    y = p.Block(slot, y - 22, false, 14, 1, kInk);
    p.Block(words->language + LanguageName(facts.language, lang), y - 22, false, 14, 1, kInk);

    // Lower left, up to the QR code: who issued it and when, then the small print for
    // verification.
    const double left = 70;
    const double width = 520;
    p.Text(issuer, left, 150, true, p.FitSize(issuer, true, 12.5, width), kNavy);
    const auto issued_civil = ToCivil(std::chrono::sys_seconds(*issued));
    const std::string issued_on =
        words->issued_on +
        ecd::DateInWords(issued_civil.year, issued_civil.month, issued_civil.day, lang);
    p.Text(issued_on, left, 133, false, 11.5, kInk);
    std::vector<std::pair<std::string, double>> small_print = {
        {words->serial + OneParagraph(facts.serial), 104},
        {words->verification_code + OneParagraph(facts.verification_code), 92},
        {words->key + OneParagraph(facts.key_id), 80}};
    if (!holder.salt.empty()) small_print.emplace_back(words->name_proof + holder.salt, 68);
    for (const auto& [text, line_y] : small_print) {
      p.Text(text, left, line_y, false, p.FitSize(text, false, 8.5, width), kGrey);
    }

    // Lower right: the QR code and what to do with it.
    const double qr_right = kPageWidth - 60;
    const double qr_bottom = 62;
    const double qr_size = 112;
    p.Qr(*qr, qr_right, qr_bottom, qr_size);
    const double caption_width = p.Width(words->scan, false, 8);
    p.Text(words->scan, qr_right - qr_size / 2 - caption_width / 2, qr_bottom - 10, false, 8,
           kGrey);

    p.Centered(words->funded, 46, false, 9.5, kGrey);
    if (cairo_status(cr.get()) != CAIRO_STATUS_SUCCESS) {
      return Status::Internal(std::string("cannot draw the certificate: ") +
                              cairo_status_to_string(cairo_status(cr.get())));
    }
  }
  cairo_surface_finish(surface.get());
  if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS) {
    return Status::Internal(std::string("cannot write the PDF: ") +
                            cairo_status_to_string(cairo_surface_status(surface.get())));
  }
  return out;
}

}  // namespace ecd::certificates
