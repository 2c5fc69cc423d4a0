#pragma once
// Text rules shared by every service.
#include <cstddef>
#include <string>
#include <string_view>

namespace ecd {

// Well-formed UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view text);

// `text` made safe to quote in a message or a log line: at most `max_chars` characters (cut on
// a character boundary, "…" appended when cut), control characters, invalid bytes and
// line/paragraph separators written as escapes (\n, \x1b, \u2028), so that input can never
// start a line of its own or recolour a terminal.
std::string Escaped(std::string_view text, size_t max_chars = 80);

}  // namespace ecd
