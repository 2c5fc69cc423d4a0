#include "services/notifications/ical.hpp"

#include <gtest/gtest.h>
#include <libical/ical.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace ecd::notifications {
namespace {

int64_t Micros(int y, unsigned m, unsigned d, int hour, int minute) {
  using namespace std::chrono;
  const sys_days date{year{y} / month{m} / day{d}};
  return duration_cast<microseconds>((date + hours{hour} + minutes{minute}).time_since_epoch())
      .count();
}

int64_t Seconds(int64_t micros) { return micros / 1000000; }

struct ComponentDeleter {
  void operator()(icalcomponent* c) const { icalcomponent_free(c); }
};
using Component = std::unique_ptr<icalcomponent, ComponentDeleter>;

Invitation Sample() {
  Invitation inv;
  inv.uid = "8f14e45f-ceea-467f-a0e6-1b7a3c0e9d21@events.ecd";
  inv.sequence = 2;
  inv.organizer_name = "EU Cyber Direct, Council of Europe";
  inv.organizer_email = "webinars@eucyberdirect.eu";
  inv.attendee_name = "Zoë Ñúñez-Çelik";
  inv.attendee_email = "zoe.nunez@justice.example";
  inv.start_micros = Micros(2020, 7, 9, 8, 0);
  inv.end_micros = Micros(2020, 7, 9, 9, 45);
  inv.stamp_micros = Micros(2020, 7, 1, 12, 30) + 123456;
  inv.summary = "Webinaire avec les pays d'Afrique (français)";
  inv.description =
      "Cybercriminalité et justice pénale dans le cyberespace; concepts, législation, "
      "coopération internationale, formation.\nLien : https://zoom.us/j/123456789?pwd=àéîõü";
  inv.url = "https://zoom.us/j/123456789";
  inv.alarm_minutes_before = 15;
  return inv;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find("\r\n", begin);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(begin, end - begin));
    begin = end + 2;
  }
  return lines;
}

bool ValidUtf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

void ExpectWellFormedLines(const std::string& text) {
  ASSERT_GE(text.size(), 2u);
  EXPECT_EQ(text.substr(text.size() - 2), "\r\n");
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') {
      EXPECT_TRUE(i > 0 && text[i - 1] == '\r') << "bare LF at " << i;
    }
    if (text[i] == '\r') {
      EXPECT_TRUE(i + 1 < text.size() && text[i + 1] == '\n') << "bare CR at " << i;
    }
  }
  for (const auto& line : Lines(text)) {
    EXPECT_LE(line.size(), 75u) << line;
    EXPECT_TRUE(ValidUtf8(line)) << "a fold splits a character: " << line;
  }
}

icalcomponent* Event(icalcomponent* calendar) {
  return icalcomponent_get_first_component(calendar, ICAL_VEVENT_COMPONENT);
}

TEST(ICalendarTest, RequestParsesBack) {
  const Invitation inv = Sample();
  const std::string text = BuildICalendar(inv);
  ExpectWellFormedLines(text);
  EXPECT_NE(text.find("BEGIN:VCALENDAR\r\n"), std::string::npos);
  EXPECT_NE(text.find("PRODID:-//EU Cyber Direct//ECD events//EN\r\n"), std::string::npos);
  EXPECT_NE(text.find("VERSION:2.0\r\n"), std::string::npos);
  EXPECT_NE(text.find("METHOD:REQUEST\r\n"), std::string::npos);
  EXPECT_NE(text.find("DTSTART:20200709T080000Z\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("DTEND:20200709T094500Z\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("DTSTAMP:20200701T123000Z\r\n"), std::string::npos) << text;

  const Component calendar(icalparser_parse_string(text.c_str()));
  ASSERT_NE(calendar, nullptr) << text;
  EXPECT_EQ(icalcomponent_isa(calendar.get()), ICAL_VCALENDAR_COMPONENT);
  EXPECT_EQ(icalcomponent_get_method(calendar.get()), ICAL_METHOD_REQUEST);
  icalcomponent* event = Event(calendar.get());
  ASSERT_NE(event, nullptr);

  EXPECT_STREQ(icalcomponent_get_uid(event), inv.uid.c_str());
  EXPECT_EQ(icalcomponent_get_sequence(event), 2);
  EXPECT_EQ(icalcomponent_get_status(event), ICAL_STATUS_CONFIRMED);
  EXPECT_STREQ(icalcomponent_get_summary(event), inv.summary.c_str());
  EXPECT_STREQ(icalcomponent_get_description(event), inv.description.c_str());

  const icaltimetype start = icalcomponent_get_dtstart(event);
  const icaltimetype end = icalcomponent_get_dtend(event);
  EXPECT_TRUE(icaltime_is_utc(start));
  EXPECT_TRUE(icaltime_is_utc(end));
  EXPECT_EQ(icaltime_as_timet(start), Seconds(inv.start_micros));
  EXPECT_EQ(icaltime_as_timet(end), Seconds(inv.end_micros));

  icalproperty* url = icalcomponent_get_first_property(event, ICAL_URL_PROPERTY);
  ASSERT_NE(url, nullptr);
  EXPECT_STREQ(icalproperty_get_url(url), inv.url.c_str());

  icalproperty* organizer = icalcomponent_get_first_property(event, ICAL_ORGANIZER_PROPERTY);
  ASSERT_NE(organizer, nullptr);
  EXPECT_STREQ(icalproperty_get_organizer(organizer), "mailto:webinars@eucyberdirect.eu");
  icalparameter* organizer_cn = icalproperty_get_first_parameter(organizer, ICAL_CN_PARAMETER);
  ASSERT_NE(organizer_cn, nullptr);
  EXPECT_STREQ(icalparameter_get_cn(organizer_cn), inv.organizer_name.c_str());

  icalproperty* attendee = icalcomponent_get_first_property(event, ICAL_ATTENDEE_PROPERTY);
  ASSERT_NE(attendee, nullptr);
  EXPECT_STREQ(icalproperty_get_attendee(attendee), "mailto:zoe.nunez@justice.example");
  icalparameter* cn = icalproperty_get_first_parameter(attendee, ICAL_CN_PARAMETER);
  ASSERT_NE(cn, nullptr);
  EXPECT_STREQ(icalparameter_get_cn(cn), "Zoë Ñúñez-Çelik");
  icalparameter* role = icalproperty_get_first_parameter(attendee, ICAL_ROLE_PARAMETER);
  ASSERT_NE(role, nullptr);
  EXPECT_EQ(icalparameter_get_role(role), ICAL_ROLE_REQPARTICIPANT);
  icalparameter* partstat = icalproperty_get_first_parameter(attendee, ICAL_PARTSTAT_PARAMETER);
  ASSERT_NE(partstat, nullptr);
  EXPECT_EQ(icalparameter_get_partstat(partstat), ICAL_PARTSTAT_NEEDSACTION);
  icalparameter* rsvp = icalproperty_get_first_parameter(attendee, ICAL_RSVP_PARAMETER);
  ASSERT_NE(rsvp, nullptr);
  EXPECT_EQ(icalparameter_get_rsvp(rsvp), ICAL_RSVP_FALSE);

  icalcomponent* alarm = icalcomponent_get_first_component(event, ICAL_VALARM_COMPONENT);
  ASSERT_NE(alarm, nullptr);
  icalproperty* action = icalcomponent_get_first_property(alarm, ICAL_ACTION_PROPERTY);
  ASSERT_NE(action, nullptr);
  EXPECT_EQ(icalproperty_get_action(action), ICAL_ACTION_DISPLAY);
  icalproperty* trigger = icalcomponent_get_first_property(alarm, ICAL_TRIGGER_PROPERTY);
  ASSERT_NE(trigger, nullptr);
  EXPECT_EQ(icaldurationtype_as_int(icalproperty_get_trigger(trigger).duration), -15 * 60);
  EXPECT_NE(text.find("TRIGGER:-PT15M\r\n"), std::string::npos) << text;
  EXPECT_NE(icalcomponent_get_first_property(alarm, ICAL_DESCRIPTION_PROPERTY), nullptr);
}

TEST(ICalendarTest, CancelParsesBack) {
  Invitation inv = Sample();
  inv.cancel = true;
  inv.sequence = 3;
  const std::string text = BuildICalendar(inv);
  ExpectWellFormedLines(text);
  EXPECT_NE(text.find("METHOD:CANCEL\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("STATUS:CANCELLED\r\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("METHOD:REQUEST"), std::string::npos);

  const Component calendar(icalparser_parse_string(text.c_str()));
  ASSERT_NE(calendar, nullptr);
  EXPECT_EQ(icalcomponent_get_method(calendar.get()), ICAL_METHOD_CANCEL);
  icalcomponent* event = Event(calendar.get());
  ASSERT_NE(event, nullptr);
  EXPECT_STREQ(icalcomponent_get_uid(event), inv.uid.c_str());
  EXPECT_EQ(icalcomponent_get_sequence(event), 3);
  EXPECT_EQ(icalcomponent_get_status(event), ICAL_STATUS_CANCELLED);
}

TEST(ICalendarTest, LongValuesAreFoldedAtCharacterBoundaries) {
  Invitation inv = Sample();
  inv.summary.clear();
  for (int i = 0; i < 40; ++i) inv.summary += "Ñúñez-Çelik, Zoë; ";
  inv.summary.pop_back();  // libical's parser drops trailing blanks
  inv.attendee_name = inv.summary;
  const std::string text = BuildICalendar(inv);
  ExpectWellFormedLines(text);
  const Component calendar(icalparser_parse_string(text.c_str()));
  ASSERT_NE(calendar, nullptr);
  icalcomponent* event = Event(calendar.get());
  ASSERT_NE(event, nullptr);
  EXPECT_STREQ(icalcomponent_get_summary(event), inv.summary.c_str());
}

TEST(ICalendarTest, NoUrlWhenThereIsNoLink) {
  Invitation inv = Sample();
  inv.url.clear();
  const std::string text = BuildICalendar(inv);
  EXPECT_EQ(text.find("\r\nURL"), std::string::npos) << text;
}

}  // namespace
}  // namespace ecd::notifications
