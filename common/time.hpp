#pragma once
// Time in one place: protobuf Timestamps as microseconds since the epoch (both ways, negative
// times included), RFC 3339 text, civil dates, and IANA time zones.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace google::protobuf {
class Timestamp;
}

namespace ecd {

inline constexpr int64_t kMicrosPerSecond = 1'000'000;
inline constexpr int64_t kMicrosPerMinute = 60 * kMicrosPerSecond;

// Microseconds since 1970-01-01T00:00:00Z (floor of the nanoseconds).
int64_t Micros(const google::protobuf::Timestamp& t);
// Sets `t` to `micros` (nanos always in [0, 1e9), also before 1970).
void SetMicros(int64_t micros, google::protobuf::Timestamp* t);
// The current time.
int64_t NowMicros();

// "2020-07-09T08:00:00Z" (fractions only when not zero: "…:00.5Z").
std::string FormatRfc3339(int64_t micros);

// Days since 1970-01-01 of a proleptic Gregorian date, and back.
int64_t DaysFromCivil(int64_t year, int month, int day);
struct CivilDate {
  int64_t year = 1970;
  int month = 1;
  int day = 1;
};
CivilDate CivilFromDays(int64_t days);
int DaysInMonth(int64_t year, int month);
// A date in words in English, French or Spanish (another language: English): "9 July 2020",
// "1er juillet 2020", "9 de julio de 2020"; with `weekday`, the day's name first ("Thursday 9
// July 2020", "jeudi 9 juillet 2020", "jueves 9 de julio de 2020"). Certificates and mail both.
std::string DateInWords(int64_t year, int month, int day, std::string_view language,
                        bool weekday = false);

// A wall-clock time, without a zone.
struct CivilTime {
  int64_t year = 0;
  int month = 0, day = 0, hour = 0, minute = 0, second = 0;
  int micros = 0;
};
// Valid fields (month 1-12, day within the month, 0-23:59:59): the instant when read as UTC.
std::optional<int64_t> CivilToUtcMicros(const CivilTime& t);

// IANA time zones, canonical names only ("Africa/Lagos", "America/Argentina/Buenos_Aires",
// "UTC"); not "posixrules", "Factory", "right/…", "posix/…" or file paths.
class TimeZone {
 public:
  // The zone called `name`, or nullopt when the name is not a canonical zone of this system's
  // time-zone database.
  static std::optional<TimeZone> Find(std::string_view name);
  static TimeZone Utc();
  const std::string& name() const { return name_; }
  // The instant of a local wall-clock time: in a gap (spring forward) the time after the gap, in
  // an overlap (fall back) the earlier of the two. nullopt for invalid fields.
  std::optional<int64_t> ToUtcMicros(const CivilTime& local) const;
  // Local time minus UTC at `utc_micros`, in seconds.
  int64_t OffsetSeconds(int64_t utc_micros) const;

 private:
  explicit TimeZone(std::string name, const void* zone) : name_(std::move(name)), zone_(zone) {}
  std::string name_;
  const void* zone_ = nullptr;  // a date::time_zone; null for UTC
};

}  // namespace ecd
