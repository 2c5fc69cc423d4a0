#include "services/registration/attendance.hpp"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <optional>
#include <utility>

namespace ecd::registration {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";
// Fields kept per record: a participants table has a handful of columns; a record with thousands
// of commas is still read to its end, but the fields past this many are dropped.
constexpr size_t kMaxFields = 256;
constexpr size_t kMaxEmailLength = 254;
constexpr int64_t kSecondsPerDay = 86400;
constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMicrosPerMinute = 60 * kMicrosPerSecond;

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

// ---------------------------------------------------------------------------------------------
// Times.

bool IsLeapYear(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int64_t year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;                                    // [0, 399]
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;  // [0, 365]
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            // [0, 146096]
  return era * 146097 + doe - 719468;
}

struct CivilTime {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  int micros = 0;          // fraction of the second
  int offset_seconds = 0;  // local time minus UTC
};

std::optional<int64_t> ToUnixMicros(const CivilTime& t) {
  if (t.year < 1 || t.year > 9999 || t.month < 1 || t.month > 12 || t.day < 1 ||
      t.day > DaysInMonth(t.year, t.month) || t.hour < 0 || t.hour > 23 || t.minute < 0 ||
      t.minute > 59 || t.second < 0 || t.second > 59) {
    return std::nullopt;
  }
  const int64_t seconds = DaysFromCivil(t.year, t.month, t.day) * kSecondsPerDay + t.hour * 3600 +
                          t.minute * 60 + t.second - t.offset_seconds;
  return seconds * kMicrosPerSecond + t.micros;
}

class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}

  bool Done() const { return pos_ == s_.size(); }

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
    while (n < max_digits && pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      value = value * 10 + (s_[pos_] - '0');
      ++pos_;
      ++n;
    }
    if (n < min_digits) return false;
    out = value;
    if (digits != nullptr) *digits = n;
    return true;
  }

  // Skips one or more spaces; false if there is none.
  bool Spaces() {
    size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] == ' ') ++pos_;
    return pos_ > start;
  }

  std::string_view Rest() const { return s_.substr(pos_); }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

// M/D/YYYY h:mm[:ss] [AM|PM] (month, day and hour may have one or two digits).
std::optional<int64_t> ParseUsTime(std::string_view s) {
  Cursor c(s);
  CivilTime t;
  if (!c.Number(1, 2, t.month) || !c.Take('/') || !c.Number(1, 2, t.day) || !c.Take('/') ||
      !c.Number(4, 4, t.year) || !c.Spaces() || !c.Number(1, 2, t.hour) || !c.Take(':') ||
      !c.Number(2, 2, t.minute)) {
    return std::nullopt;
  }
  if (c.Take(':') && !c.Number(2, 2, t.second)) return std::nullopt;
  if (!c.Done()) {
    if (!c.Spaces()) return std::nullopt;
    const std::string meridiem = LowerTrimmed(c.Rest());  // the input is already trimmed
    if (meridiem != "am" && meridiem != "pm") return std::nullopt;
    if (t.hour < 1 || t.hour > 12) return std::nullopt;
    t.hour = t.hour % 12 + (meridiem == "pm" ? 12 : 0);
  }
  return ToUnixMicros(t);
}

// YYYY-MM-DD(T| )HH:mm[:ss[.ffffff]][Z|+HH:MM|-HH:MM]
std::optional<int64_t> ParseIsoTime(std::string_view s) {
  Cursor c(s);
  CivilTime t;
  if (!c.Number(4, 4, t.year) || !c.Take('-') || !c.Number(2, 2, t.month) || !c.Take('-') ||
      !c.Number(2, 2, t.day) || !(c.Take('T') || c.Take('t') || c.Take(' ')) ||
      !c.Number(2, 2, t.hour) || !c.Take(':') || !c.Number(2, 2, t.minute)) {
    return std::nullopt;
  }
  if (c.Take(':')) {
    if (!c.Number(2, 2, t.second)) return std::nullopt;
    if (c.Take('.')) {
      int digits = 0;
      if (!c.Number(1, 6, t.micros, &digits)) return std::nullopt;
      for (; digits < 6; ++digits) t.micros *= 10;
    }
  }
  if (c.Take('Z') || c.Take('z')) {
    // UTC
  } else if (bool plus = c.Take('+'); plus || c.Take('-')) {
    int hours = 0, minutes = 0;
    if (!c.Number(2, 2, hours) || !c.Take(':') || !c.Number(2, 2, minutes) || hours > 23 ||
        minutes > 59) {
      return std::nullopt;
    }
    t.offset_seconds = (plus ? 1 : -1) * (hours * 3600 + minutes * 60);
  }
  if (!c.Done()) return std::nullopt;
  return ToUnixMicros(t);
}

std::optional<int64_t> ParseTime(std::string_view text) {
  const std::string_view s = Trim(text);
  if (s.find('/') != std::string_view::npos) return ParseUsTime(s);
  return ParseIsoTime(s);
}

// ---------------------------------------------------------------------------------------------
// The participants table.

bool PlausibleEmail(std::string_view email) {
  if (email.size() > kMaxEmailLength) return false;
  for (char c : email) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return false;  // spaces and control characters
  }
  const size_t at = email.rfind('@');
  return at != std::string_view::npos && at > 0 && at + 1 < email.size();
}

struct Columns {
  size_t email = 0, join = 0, leave = 0;
  size_t needed = 0;  // fields a data row must have
};

constexpr size_t kNone = static_cast<size_t>(-1);

// The participants header: a record with "Join Time" and "Leave Time" columns.
bool IsParticipantsHeader(const Record& record, size_t& join, size_t& leave, size_t& email) {
  join = leave = email = kNone;
  for (size_t i = 0; i < record.fields.size(); ++i) {
    const std::string name = LowerTrimmed(record.fields[i]);
    if (name == "join time" && join == kNone) join = i;
    if (name == "leave time" && leave == kNone) leave = i;
    if ((name == "user email" || name == "email") && email == kNone) email = i;
  }
  return join != kNone && leave != kNone;
}

void ParseDataRow(const Record& record, const Columns& columns, ParsedReport& report) {
  auto bad = [&](const char* reason) { report.malformed.push_back({record.line, reason}); };
  if (record.unterminated_quote) return bad("unterminated quoted field");
  if (record.fields.size() < columns.needed) return bad("too few fields");
  std::string email = NormaliseEmail(record.fields[columns.email]);
  if (email.empty()) return bad("no email");
  if (!PlausibleEmail(email)) return bad("invalid email");
  const std::optional<int64_t> join = ParseTime(record.fields[columns.join]);
  if (!join) return bad("invalid join time");
  const std::optional<int64_t> leave = ParseTime(record.fields[columns.leave]);
  if (!leave) return bad("invalid leave time");
  if (*leave < *join) return bad("leave time before join time");
  report.rows.push_back({record.line, std::move(email), *join, *leave});
}

}  // namespace

ParsedReport ParseZoomReport(std::string_view csv) {
  ParsedReport report;
  if (csv.starts_with(kBom)) csv.remove_prefix(kBom.size());
  CsvReader reader(csv);
  Record record;
  std::optional<Columns> columns;
  while (reader.Next(record)) {
    if (IsBlank(record)) continue;
    if (!columns) {
      size_t join, leave, email;
      if (!IsParticipantsHeader(record, join, leave, email)) continue;
      if (email == kNone) {
        report.error = "participants table (line " + std::to_string(record.line) +
                       ") has no User Email or Email column";
        return report;
      }
      columns = Columns{email, join, leave, std::max({email, join, leave}) + 1};
      continue;
    }
    ++report.data_rows;
    ParseDataRow(record, *columns, report);
  }
  if (!columns) report.error = "no participants table with Join Time and Leave Time columns";
  return report;
}

std::map<std::string, int> MinutesByEmail(const std::vector<AttendanceRow>& rows) {
  std::map<std::string, std::vector<std::pair<int64_t, int64_t>>> intervals;
  for (const AttendanceRow& row : rows) {
    std::string email = NormaliseEmail(row.email);
    if (email.empty()) continue;  // nobody to credit
    auto& list = intervals[std::move(email)];
    if (row.leave_micros > row.join_micros) list.emplace_back(row.join_micros, row.leave_micros);
  }
  std::map<std::string, int> minutes;
  for (auto& [email, list] : intervals) {
    std::sort(list.begin(), list.end());
    // The merged intervals are disjoint and lie within the int64 range, so their total length
    // fits in a uint64 (lengths are computed modulo 2^64 to avoid signed overflow).
    uint64_t total = 0;
    for (size_t i = 0; i < list.size();) {
      const int64_t start = list[i].first;
      int64_t end = list[i].second;
      for (++i; i < list.size() && list[i].first <= end; ++i) end = std::max(end, list[i].second);
      total += static_cast<uint64_t>(end) - static_cast<uint64_t>(start);
    }
    const uint64_t whole = total / static_cast<uint64_t>(kMicrosPerMinute);
    minutes.emplace_hint(minutes.end(), email,
                         static_cast<int>(std::min<uint64_t>(whole, INT_MAX)));
  }
  return minutes;
}

std::string NormaliseEmail(std::string_view email) { return LowerTrimmed(email); }

}  // namespace ecd::registration
