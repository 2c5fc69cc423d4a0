#pragma once
// The certificate of participation as a PDF: A4 landscape, in the participant's language (en, fr,
// es), laid out by Pango (HarfBuzz shaping, bidirectional text, font fallback) and drawn by
// Cairo into a PDF that embeds subsets of the Noto fonts, with a QR code (libqrencode). Any
// script of the invited countries' languages renders: Latin, Greek, Cyrillic, Arabic and Hebrew
// (right to left), Devanagari, Bengali, Thai, Khmer, Chinese, Japanese, Korean, Georgian,
// Armenian, Ethiopic and more.
#include <string>
#include <vector>

#include "common/status.hpp"
#include "services/certificates/payload.hpp"
#include "services/certificates/signing.hpp"

namespace ecd::certificates {

struct DocumentOptions {
  std::string language = "en";  // the participant's language: en, fr or es
  std::string qr_text;          // what the QR code encodes (the verification code or a URL)
  // The font files the document may use (TrueType/OpenType, collections too), and nothing else:
  // the rendering does not depend on what else the machine has. Empty: DefaultFontFiles().
  std::vector<std::string> font_files;
};

// What the document prints besides the signed facts: the holder's name (NFC, as they want it
// printed) and the salt of its commitment, which together prove the name against the payload.
struct Holder {
  std::string name;
  std::string salt;  // base64url, as given to the holder
};

// The Noto files of Debian's fonts-noto-core and fonts-noto-cjk that cover the scripts above.
const std::vector<std::string>& DefaultFontFiles();

// The PDF bytes. INVALID_ARGUMENT for an unknown language, or (field "participant_name") for a
// name the fonts cannot draw; INTERNAL if a font file is missing or the PDF cannot be made.
StatusOr<std::string> RenderCertificatePdf(const CertifiedFacts& facts, const Holder& holder,
                                           const DocumentOptions& options);

// How many characters of `text` the document's fonts cannot draw (Pango's unknown glyphs): 0
// means the name prints as written. INTERNAL if the fonts cannot be loaded.
StatusOr<int> UnknownGlyphs(const std::string& text, const DocumentOptions& options);

}  // namespace ecd::certificates
