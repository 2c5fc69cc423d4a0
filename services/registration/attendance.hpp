#pragma once
// Zoom's participants report (CSV) turned into minutes attended: parsing that tolerates what Zoom
// exports (a meeting summary block before the participants table, quoted fields, a BOM, CRLF,
// 12-hour times), and the merge of each person's join/leave intervals (rejoins and overlaps
// counted once).
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ecd::registration {

struct AttendanceRow {
  int line = 0;              // 1-based line of the CSV
  std::string email;         // normalised (NormaliseEmail)
  int64_t join_micros = 0;   // UTC, microseconds since the epoch
  int64_t leave_micros = 0;  // UTC, >= join_micros
};

struct MalformedLine {
  int line = 0;
  std::string reason;
};

struct ParsedReport {
  int data_rows = 0;  // rows of the participants table, good or bad
  std::vector<AttendanceRow> rows;
  std::vector<MalformedLine> malformed;
  // Set when no participants table could be found at all (then rows and malformed are empty).
  std::string error;
};

ParsedReport ParseZoomReport(std::string_view csv);

// Total minutes per email of the union of its [join, leave) intervals, rounded down.
std::map<std::string, int> MinutesByEmail(const std::vector<AttendanceRow>& rows);

// Trimmed and lowercased: how emails are compared everywhere.
std::string NormaliseEmail(std::string_view email);

}  // namespace ecd::registration
