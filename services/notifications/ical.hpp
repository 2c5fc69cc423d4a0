#pragma once
// iCalendar (RFC 5545) invitations and cancellations, built with libical.
#include <cstdint>
#include <string>

namespace ecd::notifications {

struct Invitation {
  std::string uid;      // stable per registration, like "<registration id>@events.ecd"
  int sequence = 0;     // grows when the event changes
  bool cancel = false;  // METHOD:CANCEL (STATUS:CANCELLED) instead of METHOD:REQUEST
  std::string organizer_name;
  std::string organizer_email;
  std::string attendee_name;
  std::string attendee_email;
  int64_t start_micros = 0;  // UTC
  int64_t end_micros = 0;
  int64_t stamp_micros = 0;  // DTSTAMP
  std::string summary;
  std::string description;
  std::string url;                // the join link, if any
  int alarm_minutes_before = 15;  // a DISPLAY VALARM
};

// The whole VCALENDAR text, CRLF line ends, folded as RFC 5545 asks.
std::string BuildICalendar(const Invitation& invitation);

}  // namespace ecd::notifications
