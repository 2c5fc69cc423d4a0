#include "services/registration/attendance.hpp"

#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>
#include <optional>
#include <utility>

#include "common/email.hpp"
#include "common/text.hpp"

namespace ecd::registration {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";
// Fields kept per record: a participants table has a handful of columns; a record with thousands
// of commas is still read to its end, but the fields past this many are dropped.
constexpr size_t kMaxFields = 256;
constexpr size_t kMaxEmailLength = 254;
constexpr int64_t kMicrosPerDay = 86400 * kMicrosPerSecond;

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

char ToLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::string LowerTrimmed(std::string_view s) {
  std::string out(Trim(s));
  for (char& c : out) c = ToLower(c);
  return out;
}

// A header cell as compared: trimmed, ASCII lowercased, inner runs of spaces as one, no final ':'.
std::string HeaderKey(std::string_view s) {
  std::string out;
  for (char c : Trim(s)) {
    if (IsSpace(c)) {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
    } else {
      out.push_back(ToLower(c));
    }
  }
  if (!out.empty() && out.back() == ':') out.pop_back();
  return out;
}

// ---------------------------------------------------------------------------------------------
// CSV (RFC 4180, leniently): fields separated by ',', records by "\r\n", "\n" or a lone "\r"; a
// field that starts with '"' is quoted and may hold ',', line breaks and '""' (one quote). Text
// after a closing quote up to the next separator is appended as is; a '"' inside an unquoted field
// is an ordinary character.

struct Record {
  int line = 0;  // physical line where the record starts
  std::vector<std::string> fields;
  bool unterminated_quote = false;  // a quoted field ran to the end of the input
};

class CsvReader {
 public:
  explicit CsvReader(std::string_view text) : text_(text) {}

  // Reads the next record into `record`; false at the end of the input.
  bool Next(Record& record) {
    if (pos_ >= text_.size()) return false;
    record.line = line_;
    record.fields.clear();
    record.unterminated_quote = false;
    std::string field;
    while (true) {
      field.clear();
      if (pos_ < text_.size() && text_[pos_] == '"') {
        ++pos_;
        if (!ReadQuoted(field)) record.unterminated_quote = true;
      }
      size_t end = std::min(text_.find_first_of(",\r\n", pos_), text_.size());
      field.append(text_.substr(pos_, end - pos_));
      pos_ = end;
      if (record.fields.size() < kMaxFields) record.fields.push_back(std::move(field));
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      ConsumeLineBreak();
      return true;
    }
  }

 private:
  // Reads a quoted field's content after its opening quote, up to and including the closing
  // quote. False when the input ends first.
  bool ReadQuoted(std::string& field) {
    while (pos_ < text_.size()) {
      size_t stop = text_.find_first_of("\"\r\n", pos_);
      if (stop == std::string_view::npos) {
        field.append(text_.substr(pos_));
        pos_ = text_.size();
        return false;
      }
      field.append(text_.substr(pos_, stop - pos_));
      pos_ = stop;
      if (text_[pos_] == '"') {
        if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '"') {
          field.push_back('"');
          pos_ += 2;
          continue;
        }
        ++pos_;
        return true;
      }
      size_t start = pos_;
      ConsumeLineBreak();
      field.append(text_.substr(start, pos_ - start));
    }
    return false;
  }

  void ConsumeLineBreak() {
    if (pos_ >= text_.size()) return;
    if (text_[pos_] == '\r') {
      ++pos_;
      if (pos_ < text_.size() && text_[pos_] == '\n') ++pos_;
      ++line_;
    } else if (text_[pos_] == '\n') {
      ++pos_;
      ++line_;
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
};

bool IsBlank(const Record& record) {
  if (record.unterminated_quote) return false;
  return std::all_of(record.fields.begin(), record.fields.end(),
                     [](const std::string& f) { return Trim(f).empty(); });
}

// The record without its trailing empty fields (2025 exports pad every line with commas).
size_t Width(const Record& record) {
  size_t n = record.fields.size();
  while (n > 0 && Trim(record.fields[n - 1]).empty()) --n;
  return n;
}

// The record as one line again, for messages.
std::string Joined(const Record& record) {
  std::string out;
  for (size_t i = 0; i < Width(record); ++i) {
    if (i > 0) out += ',';
    out += record.fields[i];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Times. Zoom writes "07/09/2020 08:00:12 AM" in meetings reports, "Jul 9, 2020 08:00:12" and
// "Jul 9, 2020 8:00 AM" in webinar reports; spreadsheets re-save them as "09/07/2020 08:00" or
// "2020/7/9 8:00"; ISO 8601 (with or without an offset) is read too. No Zoom format carries a
// zone: those times are read in the zone the caller names.

class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}

  bool Done() const { return pos_ == s_.size(); }
  char Peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }

  bool Take(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  // Reads between `min_digits` and `max_digits` (at most 9) decimal digits.
  bool Number(int min_digits, int max_digits, int& out, int* digits = nullptr) {
    int n = 0;
    int value = 0;
    size_t start = pos_;
    while (n < max_digits && pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      value = value * 10 + (s_[pos_] - '0');
      ++pos_;
      ++n;
    }
    // A longer run of digits than allowed is no number of this kind.
    if (n < min_digits || (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9')) {
      pos_ = start;
      return false;
    }
    out = value;
    if (digits != nullptr) *digits = n;
    return true;
  }

  // ASCII letters.
  std::string Word() {
    std::string w;
    while (pos_ < s_.size() &&
           ((s_[pos_] >= 'a' && s_[pos_] <= 'z') || (s_[pos_] >= 'A' && s_[pos_] <= 'Z'))) {
      w.push_back(ToLower(s_[pos_++]));
    }
    return w;
  }

  // Skips one or more spaces; false if there is none.
  bool Spaces() {
    size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] == ' ') ++pos_;
    return pos_ > start;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

enum class DateStyle { kIso, kNumeric, kYearFirst, kMonthName };

// A time as written, before the date order and the zone are applied.
struct WrittenTime {
  DateStyle style = DateStyle::kIso;
  char separator = '-';
  int first = 0, second = 0;  // kNumeric: the two numbers before the year, in written order
  CivilTime civil;            // year always; month and day unless kNumeric
  bool has_seconds = false;
  int meridiem = 0;  // 0 none, 1 AM, 2 PM
  bool has_offset = false;
  int offset_seconds = 0;
};

int MonthOfName(const std::string& word) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "january", "february", "march",     "april",   "may",      "june",
      "july",    "august",   "september", "october", "november", "december"};
  if (word.size() < 3) return 0;
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (word == kMonths[i] || word == kMonths[i].substr(0, 3) || (word == "sept" && i == 8)) {
      return static_cast<int>(i) + 1;
    }
  }
  return 0;
}

// H:MM[:SS[.ffffff]][ AM|PM][Z|+HH:MM|-HH:MM|+HHMM]
bool ReadClock(Cursor& c, WrittenTime& t, bool allow_offset) {
  CivilTime& v = t.civil;
  if (!c.Number(1, 2, v.hour) || !c.Take(':') || !c.Number(2, 2, v.minute)) return false;
  if (c.Take(':')) {
    if (!c.Number(2, 2, v.second)) return false;
    t.has_seconds = true;
    if (c.Take('.')) {
      int digits = 0;
      if (!c.Number(1, 6, v.micros, &digits)) return false;
      for (; digits < 6; ++digits) v.micros *= 10;
    }
  }
  if (allow_offset) {
    if (c.Take('Z') || c.Take('z')) {
      t.has_offset = true;
    } else if (bool plus = c.Take('+'); plus || c.Take('-')) {
      int hours = 0, minutes = 0;
      if (!c.Number(2, 2, hours)) return false;
      c.Take(':');
      if (!c.Number(2, 2, minutes) || hours > 23 || minutes > 59) return false;
      t.has_offset = true;
      t.offset_seconds = (plus ? 1 : -1) * (hours * 3600 + minutes * 60);
    }
  }
  if (!c.Done() && !t.has_offset) {
    if (!c.Spaces()) return false;
    const std::string meridiem = c.Word();
    if (meridiem == "am") {
      t.meridiem = 1;
    } else if (meridiem == "pm") {
      t.meridiem = 2;
    } else {
      return false;
    }
    if (v.hour < 1 || v.hour > 12) return false;
  }
  return c.Done();
}

std::optional<WrittenTime> ReadTime(std::string_view text) {
  const std::string_view s = Trim(text);
  WrittenTime t;
  Cursor c(s);
  int year = 0;
  if (c.Number(4, 4, year)) {  // 2020-07-09T08:00:00Z or 2020/7/9 8:00
    t.civil.year = year;
    if (c.Take('-')) {
      t.style = DateStyle::kIso;
      if (!c.Number(2, 2, t.civil.month) || !c.Take('-') || !c.Number(2, 2, t.civil.day) ||
          !(c.Take('T') || c.Take('t') || c.Spaces())) {
        return std::nullopt;
      }
      return ReadClock(c, t, true) ? std::optional(t) : std::nullopt;
    }
    t.style = DateStyle::kYearFirst;
    t.separator = '/';
    if (!c.Take('/') || !c.Number(1, 2, t.civil.month) || !c.Take('/') ||
        !c.Number(1, 2, t.civil.day) || !c.Spaces()) {
      return std::nullopt;
    }
    return ReadClock(c, t, false) ? std::optional(t) : std::nullopt;
  }
  if (int first = 0; c.Number(1, 2, first)) {  // 07/09/2020 08:00:12 AM, 09.07.2020 08:00
    t.style = DateStyle::kNumeric;
    t.first = first;
    t.separator = c.Peek();
    if (t.separator != '/' && t.separator != '.' && t.separator != '-') return std::nullopt;
    c.Take(t.separator);
    if (!c.Number(1, 2, t.second) || !c.Take(t.separator) || !c.Number(4, 4, year) || !c.Spaces()) {
      return std::nullopt;
    }
    t.civil.year = year;
    return ReadClock(c, t, false) ? std::optional(t) : std::nullopt;
  }
  // Jul 9, 2020 08:00:12 / July 09, 2020 8:00 AM
  t.style = DateStyle::kMonthName;
  t.civil.month = MonthOfName(c.Word());
  if (t.civil.month == 0) return std::nullopt;
  c.Take('.');
  if (!c.Spaces() || !c.Number(1, 2, t.civil.day) || !c.Take(',') || !c.Spaces() ||
      !c.Number(4, 4, year) || !c.Spaces()) {
    return std::nullopt;
  }
  t.civil.year = year;
  return ReadClock(c, t, false) ? std::optional(t) : std::nullopt;
}

enum class DateOrder { kMonthFirst, kDayFirst };

std::optional<int64_t> Resolve(WrittenTime t, DateOrder order, const TimeZone& zone) {
  if (t.style == DateStyle::kNumeric) {
    t.civil.month = order == DateOrder::kMonthFirst ? t.first : t.second;
    t.civil.day = order == DateOrder::kMonthFirst ? t.second : t.first;
  }
  if (t.civil.year < 1) return std::nullopt;
  if (t.meridiem != 0) t.civil.hour = t.civil.hour % 12 + (t.meridiem == 2 ? 12 : 0);
  if (t.has_offset) {
    auto utc = CivilToUtcMicros(t.civil);
    if (!utc) return std::nullopt;
    return *utc - t.offset_seconds * kMicrosPerSecond;
  }
  return zone.ToUtcMicros(t.civil);
}

// "MM/DD/YYYY hh:mm:ss AM/PM" and the like: how the report wrote its times.
std::string DescribeFormat(const WrittenTime& t, DateOrder order) {
  std::string date;
  const std::string sep(1, t.separator);
  switch (t.style) {
    case DateStyle::kIso:
      date = "YYYY-MM-DD";
      break;
    case DateStyle::kYearFirst:
      date = "YYYY/MM/DD";
      break;
    case DateStyle::kNumeric:
      date = order == DateOrder::kMonthFirst ? "MM" + sep + "DD" + sep + "YYYY"
                                             : "DD" + sep + "MM" + sep + "YYYY";
      break;
    case DateStyle::kMonthName:
      date = "Mon D, YYYY";
      break;
  }
  std::string clock = t.meridiem != 0 ? "hh:mm" : "HH:mm";
  if (t.has_seconds) clock += ":ss";
  if (t.meridiem != 0) clock += " AM/PM";
  if (t.has_offset) clock += "±HH:MM";
  return date + (t.style == DateStyle::kIso ? "T" : " ") + clock;
}

// Day-first or month-first for numeric dates: the file decides when a number is over 12;
// otherwise the reading that puts more times near the event's slot; otherwise Zoom's own
// month-first.
DateOrder DecideDateOrder(const std::vector<WrittenTime>& times, const ReportOptions& options) {
  bool day_first_seen = false, month_first_seen = false;
  for (const auto& t : times) {
    if (t.style != DateStyle::kNumeric) continue;
    if (t.first > 12) day_first_seen = true;
    if (t.second > 12) month_first_seen = true;
  }
  if (day_first_seen != month_first_seen) {
    return day_first_seen ? DateOrder::kDayFirst : DateOrder::kMonthFirst;
  }
  if (day_first_seen || options.slot_end_micros <= options.slot_start_micros) {
    return DateOrder::kMonthFirst;
  }
  const int64_t from = options.slot_start_micros - 2 * kMicrosPerDay;
  const int64_t to = options.slot_end_micros + 2 * kMicrosPerDay;
  int near[2] = {0, 0};
  for (const auto& t : times) {
    if (t.style != DateStyle::kNumeric || t.first == t.second) continue;
    for (DateOrder order : {DateOrder::kMonthFirst, DateOrder::kDayFirst}) {
      auto at = Resolve(t, order, options.zone);
      if (at && *at >= from && *at <= to) ++near[static_cast<int>(order)];
    }
  }
  return near[1] > near[0] ? DateOrder::kDayFirst : DateOrder::kMonthFirst;
}

// ---------------------------------------------------------------------------------------------
// Tables and sections.

bool PlausibleEmail(std::string_view email) {
  if (email.size() > kMaxEmailLength) return false;
  for (char c : email) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return false;  // spaces and control characters
  }
  const size_t at = email.rfind('@');
  return at != std::string_view::npos && at > 0 && at + 1 < email.size();
}

constexpr size_t kNone = static_cast<size_t>(-1);

template <size_t N>
bool OneOf(const std::string& key, const std::array<std::string_view, N>& names) {
  return std::find(names.begin(), names.end(), key) != names.end();
}

// Column names as Zoom writes them, in English (every layout since 2020) and in the portal
// languages seen in real exports (German, Japanese).
constexpr std::array<std::string_view, 5> kEmailNames = {"user email", "email", "e-mail",
                                                         "ユーザーメール", "メール"};
constexpr std::array<std::string_view, 3> kJoinNames = {"join time", "beitrittszeit", "参加時刻"};
constexpr std::array<std::string_view, 3> kLeaveNames = {"leave time", "austrittszeit", "退出時刻"};
constexpr std::array<std::string_view, 2> kTotalNames = {"total duration (minutes)",
                                                         "total duration(minutes)"};

// The header of a participants table.
struct Columns {
  size_t email = kNone, join = kNone, leave = kNone, total = kNone;
  size_t attended = kNone, waiting_room = kNone;
  bool webinar = false;  // has the webinar report's own columns
  size_t needed = 0;     // fields a data row must have
};

std::optional<Columns> ParticipantsHeader(const Record& record) {
  Columns c;
  for (size_t i = 0; i < record.fields.size(); ++i) {
    const std::string key = HeaderKey(record.fields[i]);
    auto set = [&](size_t& column) {
      if (column == kNone) column = i;
    };
    if (OneOf(key, kEmailNames)) set(c.email);
    if (OneOf(key, kJoinNames)) set(c.join);
    if (OneOf(key, kLeaveNames)) set(c.leave);
    if (OneOf(key, kTotalNames)) set(c.total);
    if (key == "attended") set(c.attended);
    if (key == "in waiting room") set(c.waiting_room);
    if (key == "attended" || key == "time in session (minutes)") c.webinar = true;
  }
  const bool sessions = c.join != kNone && c.leave != kNone;
  const bool totals = c.total != kNone && c.email != kNone;
  if (!sessions && !totals) return std::nullopt;
  if (sessions) c.total = kNone;
  c.needed = 0;
  for (size_t column : {c.email, c.join, c.leave, c.total, c.attended}) {
    if (column != kNone) c.needed = std::max(c.needed, column + 1);
  }
  return c;
}

// The summary block's header ("Meeting ID,Topic,Start Time,End Time,…", "Topic,ID,Host,…",
// "Topic,Webinar ID,Actual Start Time,…"), with where its start and end times are.
struct SummaryColumns {
  size_t start = kNone, end = kNone;
};

std::optional<SummaryColumns> SummaryHeader(const Record& record) {
  SummaryColumns c;
  bool topic = false, id = false;
  for (size_t i = 0; i < record.fields.size(); ++i) {
    const std::string key = HeaderKey(record.fields[i]);
    if (key == "topic") topic = true;
    if (key == "meeting id" || key == "webinar id" || key == "id") id = true;
    if (key == "start time" && c.start == kNone) c.start = i;
    if (key == "end time" && c.end == kNone) c.end = i;
  }
  if (!id || !(topic || c.start != kNone)) return std::nullopt;
  return c;
}

enum class Section { kNone, kHost, kPanelist, kAttendee, kOther };

// A section title of the webinar report ("Host Details," and so on), or nullopt.
std::optional<Section> SectionTitle(const Record& record, bool* webinar_title) {
  if (Width(record) != 1) return std::nullopt;
  const std::string key = HeaderKey(record.fields[0]);
  *webinar_title = true;
  if (key == "attendee report" || key == "webinar report") return Section::kNone;
  if (key == "host details") return Section::kHost;
  if (key == "panelist details" || key == "panelists details") return Section::kPanelist;
  if (key == "attendee details" || key == "attendees details") return Section::kAttendee;
  if (key == "other attended") return Section::kOther;
  *webinar_title = false;
  return std::nullopt;
}

bool IsNo(std::string_view value) {
  const std::string v = LowerTrimmed(value);
  return v == "no" || v == "n" || v == "false";
}

// A participant row as read, its times still text.
struct PendingRow {
  int line = 0;
  std::string email;
  bool attended = true;
  std::string join, leave;
  int total_minutes = -1;
};

}  // namespace

const char* ReportFormatName(ReportFormat format) {
  switch (format) {
    case ReportFormat::kZoomMeetingParticipants:
      return "ZOOM_MEETING_PARTICIPANTS";
    case ReportFormat::kZoomWebinarAttendees:
      return "ZOOM_WEBINAR_ATTENDEES";
    default:
      return "UNKNOWN";
  }
}

ParsedReport ParseZoomReport(std::string_view csv, const ReportOptions& options) {
  ParsedReport report;
  while (csv.starts_with(kBom)) csv.remove_prefix(kBom.size());  // some exports have two
  CsvReader reader(csv);
  Record record;
  std::optional<Columns> table;
  std::optional<SummaryColumns> summary;  // set while the summary's values row is awaited
  Section section = Section::kNone;
  bool webinar = false, any_table = false;
  std::vector<PendingRow> pending;
  std::string summary_start, summary_end;

  auto bad = [&](int line, std::string reason) {
    report.malformed.push_back({line, std::move(reason)});
  };

  while (reader.Next(record)) {
    if (IsBlank(record)) continue;
    if (report.first_line.empty()) report.first_line = Joined(record);
    bool webinar_title = false;
    if (auto title = SectionTitle(record, &webinar_title)) {
      webinar = webinar || webinar_title;
      section = *title;
      table.reset();
      summary.reset();
      continue;
    }
    if (!IsValidUtf8(Joined(record)) && !table) continue;  // not a header we could read
    if (auto header = ParticipantsHeader(record)) {
      webinar = webinar || header->webinar;
      if (header->total != kNone) report.unique_users = true;
      table = header;
      any_table = true;
      summary.reset();
      continue;
    }
    if (auto s = SummaryHeader(record)) {
      summary = s;
      table.reset();
      continue;
    }
    if (summary) {  // the summary's values: the meeting's own start and end
      if (summary->start < record.fields.size()) summary_start = record.fields[summary->start];
      if (summary->end < record.fields.size()) summary_end = record.fields[summary->end];
      summary.reset();
      continue;
    }
    if (!table) continue;  // "Report Generated:" and whatever else stands outside the tables
    if (section == Section::kHost || section == Section::kPanelist) {
      ++report.skipped_rows;
      continue;
    }
    ++report.data_rows;
    const Columns& columns = *table;
    const int line = record.line;
    if (record.unterminated_quote) {
      bad(line, "unterminated quoted field");
      continue;
    }
    if (!std::all_of(record.fields.begin(), record.fields.end(),
                     [](const std::string& f) { return IsValidUtf8(f); })) {
      bad(line, "invalid UTF-8");
      continue;
    }
    if (record.fields.size() < columns.needed) {
      bad(line, "too few fields");
      continue;
    }
    PendingRow row;
    row.line = line;
    if (columns.email != kNone) row.email = NormaliseEmail(record.fields[columns.email]);
    if (!row.email.empty() && !PlausibleEmail(row.email)) {
      bad(line, "invalid email");
      continue;
    }
    if (columns.attended != kNone && IsNo(record.fields[columns.attended])) row.attended = false;
    if (columns.waiting_room != kNone && columns.waiting_room < record.fields.size() &&
        LowerTrimmed(record.fields[columns.waiting_room]) == "yes") {
      row.attended = false;  // time in the waiting room is not time in the webinar
    }
    if (row.attended && columns.total != kNone) {
      const std::string_view total = Trim(record.fields[columns.total]);
      int minutes = 0;
      Cursor c(total);
      if (total.empty() || !c.Number(1, 7, minutes) || !c.Done()) {
        bad(line, "invalid total duration");
        continue;
      }
      row.total_minutes = minutes;
    } else if (row.attended) {
      row.join = record.fields[columns.join];
      row.leave = record.fields[columns.leave];
    }
    pending.push_back(std::move(row));
  }
  if (!any_table) {
    report.error =
        "not a Zoom attendance report: no participants table (a header with Join Time and Leave "
        "Time, or User Email and Total Duration (Minutes)) and no webinar Attendee Details";
    report.malformed.clear();
    return report;
  }
  report.format =
      webinar ? ReportFormat::kZoomWebinarAttendees : ReportFormat::kZoomMeetingParticipants;

  // Times: read them all, decide the date order once for the file, then convert.
  std::vector<WrittenTime> written;
  std::vector<std::optional<WrittenTime>> joins, leaves;
  for (const auto& row : pending) {
    joins.push_back(row.join.empty() ? std::nullopt : ReadTime(row.join));
    leaves.push_back(row.leave.empty() ? std::nullopt : ReadTime(row.leave));
    if (joins.back()) written.push_back(*joins.back());
    if (leaves.back()) written.push_back(*leaves.back());
  }
  const auto summary_from = ReadTime(summary_start), summary_to = ReadTime(summary_end);
  if (summary_from) written.push_back(*summary_from);
  if (summary_to) written.push_back(*summary_to);
  const DateOrder order = DecideDateOrder(written, options);
  if (summary_from && summary_to) {
    auto from = Resolve(*summary_from, order, options.zone);
    auto to = Resolve(*summary_to, order, options.zone);
    if (from && to && *from <= *to) {
      report.meeting_start_micros = *from;
      report.meeting_end_micros = *to;
    }
  }
  for (size_t i = 0; i < pending.size(); ++i) {
    PendingRow& p = pending[i];
    AttendanceRow row{p.line, std::move(p.email), p.attended, 0, 0, p.total_minutes};
    if (p.attended && p.total_minutes < 0) {
      const auto join = joins[i] ? Resolve(*joins[i], order, options.zone) : std::nullopt;
      if (!join) {
        bad(p.line, "invalid join time");
        continue;
      }
      const auto leave = leaves[i] ? Resolve(*leaves[i], order, options.zone) : std::nullopt;
      if (!leave) {
        bad(p.line, "invalid leave time");
        continue;
      }
      if (*leave < *join) {
        bad(p.line, "leave time before join time");
        continue;
      }
      if (report.time_format.empty()) report.time_format = DescribeFormat(*joins[i], order);
      row.join_micros = *join;
      row.leave_micros = *leave;
    }
    report.rows.push_back(std::move(row));
  }
  std::sort(report.malformed.begin(), report.malformed.end(),
            [](const MalformedLine& a, const MalformedLine& b) { return a.line < b.line; });
  return report;
}

Attendance MinutesInSlot(const ParsedReport& report, int64_t slot_start, int64_t slot_end) {
  Attendance out;
  const int64_t slot = std::max<int64_t>(0, slot_end - slot_start);
  std::map<std::string, std::vector<std::pair<int64_t, int64_t>>> intervals;
  std::map<std::string, int64_t> totals;  // unique-users rows, in microseconds
  // What a total may count: the part of the slot the meeting covered, if the report says.
  int64_t total_bound = slot;
  if (report.meeting_end_micros > report.meeting_start_micros) {
    total_bound = std::max<int64_t>(0, std::min(slot_end, report.meeting_end_micros) -
                                           std::max(slot_start, report.meeting_start_micros));
  }
  auto outside = [&](const AttendanceRow& row, std::string reason) {
    out.out_of_slot.push_back({row.line, row.email, std::move(reason)});
  };
  const std::string slot_text =
      "the event's slot " + FormatRfc3339(slot_start) + " to " + FormatRfc3339(slot_end);
  for (const AttendanceRow& row : report.rows) {
    if (row.email.empty()) continue;  // nobody to credit
    out.minutes_by_email.try_emplace(row.email, 0);
    if (!row.attended) continue;
    if (row.total_minutes >= 0) {
      if (total_bound == 0 && row.total_minutes > 0) {
        outside(row, "the meeting (" + FormatRfc3339(report.meeting_start_micros) + " to " +
                         FormatRfc3339(report.meeting_end_micros) + ") lies outside " + slot_text);
        continue;
      }
      const int64_t micros = std::min<int64_t>(
          static_cast<int64_t>(row.total_minutes) * kMicrosPerMinute, total_bound);
      totals[row.email] = std::min(total_bound, totals[row.email] + micros);
      continue;
    }
    const int64_t from = std::max(row.join_micros, slot_start);
    const int64_t to = std::min(row.leave_micros, slot_end);
    if (to < from || (to == from && row.leave_micros > row.join_micros)) {
      outside(row, "joined " + FormatRfc3339(row.join_micros) + ", left " +
                       FormatRfc3339(row.leave_micros) + ": outside " + slot_text);
      continue;
    }
    if (to > from) intervals[row.email].emplace_back(from, to);
  }
  for (auto& [email, minutes] : out.minutes_by_email) {
    int64_t total = 0;
    auto it = intervals.find(email);
    if (it != intervals.end()) {
      auto& list = it->second;
      std::sort(list.begin(), list.end());
      for (size_t i = 0; i < list.size();) {
        const int64_t start = list[i].first;
        int64_t end = list[i].second;
        for (++i; i < list.size() && list[i].first <= end; ++i) end = std::max(end, list[i].second);
        total += end - start;
      }
    }
    if (auto t = totals.find(email); t != totals.end()) total += t->second;
    total = std::min(total, slot);
    minutes = static_cast<int>(std::min<int64_t>(total / kMicrosPerMinute, INT_MAX));
  }
  return out;
}

}  // namespace ecd::registration
