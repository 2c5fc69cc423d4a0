#include "common/time.hpp"

#include <date/tz.h>
#include <google/protobuf/timestamp.pb.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

namespace ecd {
namespace {

constexpr int64_t kSecondsPerDay = 86400;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool IsLeapYear(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

constexpr std::string_view kZoneInfo = "/usr/share/zoneinfo";

// Names a person may give: letters, digits and "_+-" in "/"-separated parts, none "." or "..".
bool PlausibleZoneName(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '/' || name.back() == '/') return false;
  size_t part = 0;
  for (size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '/') {
      if (i == part) return false;
      part = i + 1;
      continue;
    }
    const char c = name[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '+' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// The time-zone database's names: each zone under its own name, each link under its target's.
// Read once from tzdata.zi (the compact source that Debian's tzdata ships with the binaries).
class ZoneNames {
 public:
  static const ZoneNames& Get() {
    static const ZoneNames names;
    return names;
  }
  // The canonical name of `name`, or "" if it is no zone.
  std::string Canonical(std::string_view name) const {
    if (!PlausibleZoneName(name)) return "";
    if (name == "Factory" || name == "posixrules" || name == "localtime" ||
        name.starts_with("posix/") || name.starts_with("right/")) {
      return "";
    }
    if (auto it = canonical_.find(std::string(name)); it != canonical_.end()) return it->second;
    // Older names that Debian keeps only as files (tzdata's "backward" links, such as
    // Asia/Calcutta, which browsers still report): follow the file to the zone it is.
    std::error_code ec;
    const std::filesystem::path root(kZoneInfo);
    const auto path = root / std::string(name);
    if (!std::filesystem::is_symlink(path, ec)) return "";
    const auto target = std::filesystem::canonical(path, ec);
    if (ec) return "";
    const auto relative = target.lexically_relative(std::filesystem::canonical(root, ec));
    if (ec) return "";
    auto it = canonical_.find(relative.generic_string());
    return it != canonical_.end() && it->first == it->second ? it->second : "";
  }

 private:
  ZoneNames() {
    std::ifstream in(std::string(kZoneInfo) + "/tzdata.zi");
    std::string line;
    std::map<std::string, std::string> links;
    while (std::getline(in, line)) {
      std::istringstream words(line);
      std::string kind, a, b;
      words >> kind >> a;
      if (kind == "Z" && a != "Factory") {
        canonical_[a] = a;
      } else if (kind == "L" && (words >> b)) {
        links[b] = a;
      }
    }
    for (const auto& [link, target] : links) {
      if (canonical_.count(target) != 0 && canonical_[target] == target) canonical_[link] = target;
    }
    // "UTC" is what people write; the database calls the zone Etc/UTC.
    for (auto& [name, target] : canonical_) {
      if (target == "Etc/UTC") target = "UTC";
    }
    canonical_["UTC"] = "UTC";
  }
  std::map<std::string, std::string> canonical_;
};

}  // namespace

namespace {

struct DateWords {
  const char* weekdays[7];  // Sunday first
  const char* months[12];
};

const DateWords kEnglishDates = {
    {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"},
    {"January", "February", "March", "April", "May", "June", "July", "August", "September",
     "October", "November", "December"}};
const DateWords kFrenchDates = {
    {"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"},
    {"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
     "octobre", "novembre", "décembre"}};
const DateWords kSpanishDates = {
    {"domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"},
    {"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
     "octubre", "noviembre", "diciembre"}};

}  // namespace

std::string DateInWords(int64_t year, int month, int day, std::string_view language, bool weekday) {
  const bool fr = language == "fr", es = language == "es";
  const DateWords& w = fr ? kFrenchDates : es ? kSpanishDates : kEnglishDates;
  const int m = std::clamp(month, 1, 12) - 1;
  const std::string y = std::to_string(year), d = std::to_string(day);
  std::string out;
  if (weekday) {
    // 1970-01-01 was a Thursday (4, counting from Sunday).
    const int64_t wd = ((DaysFromCivil(year, month, day) % 7) + 11) % 7;
    out = std::string(w.weekdays[wd]) + " ";
  }
  if (fr) return out + (day == 1 ? "1er" : d) + " " + w.months[m] + " " + y;
  if (es) return out + d + " de " + w.months[m] + " de " + y;
  return out + d + " " + w.months[m] + " " + y;
}

int64_t Micros(const google::protobuf::Timestamp& t) {
  return t.seconds() * kMicrosPerSecond + FloorDiv(t.nanos(), 1000);
}

void SetMicros(int64_t micros, google::protobuf::Timestamp* t) {
  t->set_seconds(FloorDiv(micros, kMicrosPerSecond));
  t->set_nanos(static_cast<int32_t>((micros - t->seconds() * kMicrosPerSecond) * 1000));
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int DaysInMonth(int64_t year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

// H. Hinnant's days_from_civil and civil_from_days.
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CivilDate CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {yoe + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

std::optional<int64_t> CivilToUtcMicros(const CivilTime& t) {
  if (t.year < -9999 || t.year > 9999 || t.month < 1 || t.month > 12 || t.day < 1 ||
      t.day > DaysInMonth(t.year, t.month) || t.hour < 0 || t.hour > 23 || t.minute < 0 ||
      t.minute > 59 || t.second < 0 || t.second > 59 || t.micros < 0 || t.micros > 999999) {
    return std::nullopt;
  }
  const int64_t seconds = DaysFromCivil(t.year, t.month, t.day) * kSecondsPerDay + t.hour * 3600 +
                          t.minute * 60 + t.second;
  return seconds * kMicrosPerSecond + t.micros;
}

std::string FormatRfc3339(int64_t micros) {
  const int64_t seconds = FloorDiv(micros, kMicrosPerSecond);
  const int64_t fraction = micros - seconds * kMicrosPerSecond;
  const int64_t days = FloorDiv(seconds, kSecondsPerDay);
  const int64_t in_day = seconds - days * kSecondsPerDay;
  const CivilDate d = CivilFromDays(days);
  char out[64];
  int n = std::snprintf(
      out, sizeof out, "%04lld-%02d-%02dT%02lld:%02lld:%02lld", static_cast<long long>(d.year),
      d.month, d.day, static_cast<long long>(in_day / 3600),
      static_cast<long long>(in_day / 60 % 60), static_cast<long long>(in_day % 60));
  std::string text(out, static_cast<size_t>(n));
  if (fraction != 0) {
    std::snprintf(out, sizeof out, ".%06lld", static_cast<long long>(fraction));
    std::string f(out);
    while (f.back() == '0') f.pop_back();
    text += f;
  }
  return text + "Z";
}

std::optional<TimeZone> TimeZone::Find(std::string_view name) {
  const std::string canonical = ZoneNames::Get().Canonical(name);
  if (canonical.empty()) return std::nullopt;
  if (canonical == "UTC") return Utc();
  try {
    return TimeZone(canonical, date::locate_zone(canonical));
  } catch (const std::exception&) {  // listed, but no file for it
    return std::nullopt;
  }
}

TimeZone TimeZone::Utc() { return TimeZone("UTC", nullptr); }

std::optional<int64_t> TimeZone::ToUtcMicros(const CivilTime& local) const {
  const std::optional<int64_t> as_utc = CivilToUtcMicros(local);
  if (!as_utc || zone_ == nullptr) return as_utc;
  const auto* zone = static_cast<const date::time_zone*>(zone_);
  using std::chrono::microseconds;
  const date::local_time<microseconds> wall{microseconds(*as_utc)};
  const date::local_info info = zone->get_info(date::floor<std::chrono::seconds>(wall));
  // In a gap, the offset before the change puts the wall time after the gap; in an overlap, the
  // first offset gives the earlier instant.
  return *as_utc - std::chrono::duration_cast<microseconds>(info.first.offset).count();
}

int64_t TimeZone::OffsetSeconds(int64_t utc_micros) const {
  if (zone_ == nullptr) return 0;
  const auto* zone = static_cast<const date::time_zone*>(zone_);
  const date::sys_seconds at{std::chrono::seconds(FloorDiv(utc_micros, kMicrosPerSecond))};
  return zone->get_info(at).offset.count();
}

}  // namespace ecd
