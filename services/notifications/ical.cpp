#include "services/notifications/ical.hpp"

#include <libical/ical.h>

#include <algorithm>
#include <ctime>
#include <memory>
#include <string_view>

namespace ecd::notifications {
namespace {

struct ComponentDeleter {
  void operator()(icalcomponent* c) const { icalcomponent_free(c); }
};
using Component = std::unique_ptr<icalcomponent, ComponentDeleter>;

struct BufferDeleter {
  void operator()(char* s) const { icalmemory_free_buffer(s); }
};

icaltimetype UtcTime(int64_t micros) {
  // Floor to the second: iCalendar has no fractions of a second.
  int64_t seconds = micros / 1000000;
  if (micros % 1000000 < 0) --seconds;
  return icaltime_from_timet_with_zone(static_cast<time_t>(seconds), 0,
                                       icaltimezone_get_utc_timezone());
}

// No value may hold a control character (RFC 5545 3.1), and a parameter value cannot hold a
// DQUOTE; the values come from people, so such characters are dropped rather than refused.
std::string StripControls(const std::string& value, bool keep_newlines) {
  std::string out;
  for (unsigned char c : value) {
    if (keep_newlines && c == '\n') {
      out += '\n';
    } else if (c >= 0x20 && c != 0x7f) {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string CleanText(const std::string& value) { return StripControls(value, true); }

std::string CleanParameter(const std::string& value) {
  std::string out = StripControls(value, false);
  out.erase(std::remove(out.begin(), out.end(), '"'), out.end());
  return out;
}

// "mailto:<address>" with CN=<name> when there is a name.
void AddPerson(icalproperty* property, const std::string& name) {
  const std::string cn = CleanParameter(name);
  if (!cn.empty()) icalproperty_add_parameter(property, icalparameter_new_cn(cn.c_str()));
}

std::string MailTo(const std::string& email) { return "mailto:" + StripControls(email, false); }

// RFC 5545 3.1: lines end with CRLF and are folded at 75 octets, never inside a UTF-8 sequence.
// libical 3.0 does this already; unfolding and folding again here keeps the guarantee whatever the
// libical version, and fills each line (libical may break right after "SUMMARY:").
std::string Fold(const std::string& text) {
  // Unfold: a line break followed by a space or a tab continues the previous line.
  std::string unfolded;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r') continue;
    if (text[i] == '\n' && i + 1 < text.size() && (text[i + 1] == ' ' || text[i + 1] == '\t')) {
      ++i;
      continue;
    }
    unfolded += text[i];
  }
  std::string out;
  size_t begin = 0;
  while (begin < unfolded.size()) {
    size_t end = unfolded.find('\n', begin);
    if (end == std::string::npos) end = unfolded.size();
    const std::string_view line(unfolded.data() + begin, end - begin);
    begin = end + 1;
    if (line.empty()) continue;
    size_t pos = 0;
    size_t limit = 75;  // octets on the first line; continuation lines start with a space
    while (line.size() - pos > limit) {
      size_t cut = pos + limit;
      while (cut > pos && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
      out.append(line.substr(pos, cut - pos));
      out += "\r\n ";
      pos = cut;
      limit = 74;
    }
    out.append(line.substr(pos));
    out += "\r\n";
  }
  return out;
}

}  // namespace

std::string BuildICalendar(const Invitation& invitation) {
  Component calendar(icalcomponent_new_vcalendar());
  icalcomponent_add_property(calendar.get(),
                             icalproperty_new_prodid("-//EU Cyber Direct//ECD events//EN"));
  icalcomponent_add_property(calendar.get(), icalproperty_new_version("2.0"));
  icalcomponent_add_property(
      calendar.get(),
      icalproperty_new_method(invitation.cancel ? ICAL_METHOD_CANCEL : ICAL_METHOD_REQUEST));

  icalcomponent* event = icalcomponent_new_vevent();
  icalcomponent_add_component(calendar.get(), event);  // the calendar owns it from here
  icalcomponent_add_property(event, icalproperty_new_uid(CleanText(invitation.uid).c_str()));
  icalcomponent_add_property(event, icalproperty_new_sequence(invitation.sequence));
  icalcomponent_add_property(event, icalproperty_new_dtstamp(UtcTime(invitation.stamp_micros)));
  icalcomponent_add_property(event, icalproperty_new_dtstart(UtcTime(invitation.start_micros)));
  icalcomponent_add_property(event, icalproperty_new_dtend(UtcTime(invitation.end_micros)));
  icalcomponent_add_property(event,
                             icalproperty_new_summary(CleanText(invitation.summary).c_str()));
  if (!invitation.description.empty()) {
    icalcomponent_add_property(
        event, icalproperty_new_description(CleanText(invitation.description).c_str()));
  }
  if (!invitation.url.empty()) {
    icalcomponent_add_property(event,
                               icalproperty_new_url(StripControls(invitation.url, false).c_str()));
  }
  if (!invitation.organizer_email.empty()) {
    icalproperty* organizer =
        icalproperty_new_organizer(MailTo(invitation.organizer_email).c_str());
    AddPerson(organizer, invitation.organizer_name);
    icalcomponent_add_property(event, organizer);
  }
  if (!invitation.attendee_email.empty()) {
    icalproperty* attendee = icalproperty_new_attendee(MailTo(invitation.attendee_email).c_str());
    AddPerson(attendee, invitation.attendee_name);
    icalproperty_add_parameter(attendee, icalparameter_new_role(ICAL_ROLE_REQPARTICIPANT));
    icalproperty_add_parameter(attendee, icalparameter_new_partstat(ICAL_PARTSTAT_NEEDSACTION));
    icalproperty_add_parameter(attendee, icalparameter_new_rsvp(ICAL_RSVP_FALSE));
    icalcomponent_add_property(event, attendee);
  }
  icalcomponent_add_property(
      event,
      icalproperty_new_status(invitation.cancel ? ICAL_STATUS_CANCELLED : ICAL_STATUS_CONFIRMED));

  if (!invitation.cancel && invitation.alarm_minutes_before > 0) {
    icalcomponent* alarm = icalcomponent_new_valarm();
    icalcomponent_add_property(alarm, icalproperty_new_action(ICAL_ACTION_DISPLAY));
    icalcomponent_add_property(
        alarm,
        icalproperty_new_trigger(icaltriggertype_from_int(-60 * invitation.alarm_minutes_before)));
    // A DISPLAY alarm must have a DESCRIPTION (RFC 5545 3.6.6).
    const std::string reminder = invitation.summary.empty() ? "Reminder" : invitation.summary;
    icalcomponent_add_property(alarm, icalproperty_new_description(CleanText(reminder).c_str()));
    icalcomponent_add_component(event, alarm);
  }

  const std::unique_ptr<char, BufferDeleter> text(icalcomponent_as_ical_string_r(calendar.get()));
  return text ? Fold(text.get()) : std::string();
}

}  // namespace ecd::notifications
