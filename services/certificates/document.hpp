#pragma once
// The certificate of participation as a PDF: A4 landscape, in the participant's language (en, fr,
// es), made with libharu, with an embedded TrueType font (DejaVu, from Debian's fonts-dejavu-core)
// that renders every accented name, and a QR code (libqrencode) carrying the verification URL or
// code.
#include <string>

#include "common/status.hpp"
#include "services/certificates/signing.hpp"

namespace ecd::certificates {

struct DocumentOptions {
  std::string language = "en";  // the participant's language: en, fr or es
  std::string qr_text;          // what the QR code encodes (the verification code or a URL)
  std::string font_path = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
  std::string bold_font_path = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";
};

// The PDF bytes. INVALID_ARGUMENT for an unknown language; INTERNAL if the PDF library fails.
StatusOr<std::string> RenderCertificatePdf(const CertifiedFacts& facts,
                                           const DocumentOptions& options);

}  // namespace ecd::certificates
