#pragma once
// CSV for spreadsheet programs: RFC 4180 (fields with a comma, a quote or a line break quoted,
// quotes doubled, CRLF line ends), UTF-8 with a byte-order mark so that accents open right, and
// no formula injection: a cell that starts with =, +, -, @, a tab or a carriage return (which a
// spreadsheet would run as a formula) gets a leading apostrophe and is read as text.
#include <string>
#include <string_view>
#include <vector>

namespace ecd {

inline constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// One record, with its CRLF.
std::string CsvRow(const std::vector<std::string>& cells);

}  // namespace ecd
