#pragma once
// Zoom's attendance reports (CSV) turned into minutes attended.
//
// Formats, recognised by their content (tests/fixtures/zoom/FORMATS.md says where each comes from):
// - the Zoom Meetings participants report, with or without the meeting-summary block above it,
//   one row per join/leave session, or one row per person with a total ("show unique users");
// - the Zoom Webinar attendee report: a title, a summary, then sections ("Host Details",
//   "Panelist Details", "Attendee Details", "Other Attended"), each with its own header. Only the
//   attendee sections are participants; `Attended = No` rows count zero.
// Zoom writes times in the account's time zone without saying which: the caller names the zone.
// Minutes are the union of each person's intervals clipped to the event's slot.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.hpp"

namespace ecd::registration {

enum class ReportFormat { kUnknown, kZoomMeetingParticipants, kZoomWebinarAttendees };

struct AttendanceRow {
  int line = 0;              // 1-based line of the CSV
  std::string email;         // normalised (NormaliseEmail); "" when the row has none
  bool attended = true;      // false: "Attended = No" or a waiting-room row: counts zero
  int64_t join_micros = 0;   // UTC, microseconds since the epoch (when attended)
  int64_t leave_micros = 0;  // UTC, >= join_micros
  // Unique-users rows: the person's total over the meeting, no join or leave (-1 otherwise).
  int total_minutes = -1;
};

struct MalformedLine {
  int line = 0;
  std::string reason;
};

struct ReportOptions {
  TimeZone zone = TimeZone::Utc();  // how times without an offset are read
  // The event's slot: decides day-first against month-first dates when a file leaves it open.
  int64_t slot_start_micros = 0;
  int64_t slot_end_micros = 0;
};

struct ParsedReport {
  ReportFormat format = ReportFormat::kUnknown;
  bool unique_users = false;  // a participants report with totals only
  // How the times were written, like "MM/DD/YYYY hh:mm:ss AM/PM"; "" when no time was read.
  std::string time_format;
  int data_rows = 0;     // participant rows read, good or bad
  int skipped_rows = 0;  // host and panelist rows: not participants
  std::vector<AttendanceRow> rows;
  std::vector<MalformedLine> malformed;
  // The meeting's own start and end, from the summary block (0 when absent).
  int64_t meeting_start_micros = 0;
  int64_t meeting_end_micros = 0;
  // Set when no participants table was found (then rows and malformed are empty), with the
  // first line of the file in `first_line`.
  std::string error;
  std::string first_line;
};

ParsedReport ParseZoomReport(std::string_view csv, const ReportOptions& options = {});

const char* ReportFormatName(ReportFormat format);

// A row that lies wholly outside the slot: it counts nothing.
struct OutOfSlot {
  int line = 0;
  std::string email;
  std::string reason;
};

struct Attendance {
  std::map<std::string, int> minutes_by_email;  // every email of the report (0 included)
  std::vector<OutOfSlot> out_of_slot;
};

// Minutes per email: the union of the person's [join, leave) intervals clipped to
// [slot_start, slot_end), rounded down, never more than the slot. Unique-users totals count up
// to the part of the slot the meeting covered (the summary's start and end) when known, and at
// most the slot.
Attendance MinutesInSlot(const ParsedReport& report, int64_t slot_start_micros,
                         int64_t slot_end_micros);

}  // namespace ecd::registration
