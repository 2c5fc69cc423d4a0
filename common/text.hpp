#pragma once
// Text rules shared by every service.
#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.hpp"

namespace google::protobuf {
class Message;
}

namespace ecd {

// The platform's one text rule, for every string field a person or system sends.
enum class TextKind {
  kLine,       // one line: no control characters at all
  kMultiLine,  // may hold line breaks and tabs (descriptions, messages)
  kName,       // a person's name: one line, at least one letter, no bidi overrides or isolates
};
struct TextRule {
  TextKind kind = TextKind::kLine;
  size_t max_bytes = 200;
  bool required = false;
};
// INVALID_ARGUMENT naming `field` unless `value` is valid UTF-8 in NFC, without NUL or other
// C0/C1 controls (line breaks and tabs only in kMultiLine), within `max_bytes`, not empty when
// required, and for names with a letter and no bidirectional override or isolate (U+202A-202E,
// U+2066-2069). Callers normalise with Nfc() first where they accept other forms.
Status CheckText(std::string_view value, std::string_view field, const TextRule& rule);

// Well-formed UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view text);

// Unicode Normalization Form C (composed): the same name typed as "e" + U+0301 or as "é" gives
// the same bytes. "" for invalid UTF-8.
std::string Nfc(std::string_view text);

// Every string field of `message` (nested and repeated ones too) in NFC; fields that are not
// valid UTF-8 are left for CheckText to refuse by name.
void NormaliseStrings(google::protobuf::Message* message);

// `text` made safe to quote in a message or a log line: at most `max_chars` characters (cut on
// a character boundary, "…" appended when cut), control characters, invalid bytes and
// line/paragraph separators written as escapes (\n, \x1b, \u2028), so that input can never
// start a line of its own or recolour a terminal.
std::string Escaped(std::string_view text, size_t max_chars = 80);

// `text` percent-encoded for a URL's path or query: every byte but RFC 3986's unreserved
// characters (letters, digits, - . _ ~) as %XX.
std::string PercentEncode(std::string_view text);

}  // namespace ecd
