#pragma once
// Internet messages as they go on the wire (RFC 5322 and MIME, RFC 2045-2047 and 2231), built
// here rather than by libcurl so that any number of files can be attached, file names in any
// script survive (RFC 2231), and a test can parse exactly what is sent.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ecd::notifications {

// A file sent with a message. The bytes are shared: a kit sent to a hundred participants holds
// its documents once in memory.
struct Attachment {
  std::string filename;      // UTF-8, any script
  std::string content_type;  // "application/pdf"; empty or invalid: guessed from the name
  std::shared_ptr<const std::string> content;
  std::string sha256;  // lowercase hex of *content; computed when empty
  size_t size() const { return content ? content->size() : 0; }
};

namespace mime {

// A header value: as it is when it is printable ASCII, otherwise RFC 2047 encoded words (UTF-8,
// base64) of at most 75 characters, split between characters and folded onto several lines.
// Line breaks in `text` become spaces (a value cannot smuggle in another header).
std::string EncodeHeader(std::string_view text);

// An address with its display name for From, To and the like (RFC 5322 mailbox): the name as
// it is when it is made of atoms (letters, digits and the like, and spaces), a quoted string when
// it is other printable ASCII ("Diop, Awa", quotes and backslashes escaped), RFC 2047 encoded
// words when it holds anything else (any script, control characters); "<address>" alone when
// the name is empty. Long values are folded; the address never shares a line that would exceed
// 78 characters with the name. Line breaks become spaces.
std::string Mailbox(std::string_view display_name, std::string_view address,
                    size_t header_name_length = 4);

// Quoted-printable (RFC 2045) with CRLF line ends; LF and CRLF in `text` are hard line breaks.
std::string QuotedPrintable(std::string_view text);

// Base64 in lines of 76 characters, each ended by CRLF.
std::string Base64Lines(std::string_view bytes);

// One parameter of a Content-Disposition or Content-Type header, with its leading "; ": a quoted
// string when `value` is short printable ASCII, otherwise RFC 2231 (charset UTF-8,
// percent-encoded, split into numbered continuations on folded lines).
std::string Parameter(std::string_view name, std::string_view value);

// A file name fit for a header: no control characters, no path, not empty.
std::string SafeFilename(std::string_view filename);

// `declared` when it is a well-formed type/subtype, otherwise the type that the file name's
// extension commonly means, otherwise application/octet-stream.
std::string ContentTypeFor(std::string_view declared, std::string_view filename);

}  // namespace mime
}  // namespace ecd::notifications
