#include "services/registration/attendance.hpp"

#include <gtest/gtest.h>

#include <climits>
#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "common/email.hpp"

namespace ecd::registration {
namespace {

// Seconds since the epoch of some midnights (UTC), from `date -u -d 2020-07-09 +%s` and so on.
constexpr int64_t k2020Jul09 = 1594252800;
constexpr int64_t k2020Jul10 = k2020Jul09 + 86400;
constexpr int64_t k2020Feb29 = 1582934400;
constexpr int64_t k2000Feb29 = 951782400;
constexpr int64_t k2021Jan01 = 1609459200;

constexpr int64_t kSecond = 1'000'000;
constexpr int64_t kMinute = 60 * kSecond;

// Microseconds since the epoch of h:m:s on the day starting at `midnight` (seconds).
constexpr int64_t At(int64_t midnight, int h, int m, int s = 0) {
  return (midnight + h * 3600 + m * 60 + s) * kSecond;
}

AttendanceRow Row(const std::string& email, int64_t join, int64_t leave) {
  return AttendanceRow{0, NormaliseEmail(email), true, join, leave};
}

// A slot wide enough to hold any row of these tests: years 0001 to 9999.
const int64_t kWideStart = *CivilToUtcMicros({1, 1, 1, 0, 0, 0});
const int64_t kWideEnd = *CivilToUtcMicros({9999, 12, 31, 23, 59, 59});

std::map<std::string, int> MinutesByEmail(std::vector<AttendanceRow> rows,
                                          int64_t slot_start = kWideStart,
                                          int64_t slot_end = kWideEnd) {
  ParsedReport report;
  report.rows = std::move(rows);
  return MinutesInSlot(report, slot_start, slot_end).minutes_by_email;
}

// A minimal participants table with one data row on line 2.
ParsedReport ParseOne(const std::string& join, const std::string& leave,
                      const std::string& email = "ada@example.org") {
  return ParseZoomReport("User Email,Join Time,Leave Time\n" + email + "," + join + "," + leave +
                         "\n");
}

// The join time of a single-row report, or -1 if the row was rejected.
int64_t JoinOf(const std::string& join) {
  ParsedReport r = ParseOne(join, "12/31/2099 23:59:59");
  EXPECT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.data_rows, 1);
  return r.rows.size() == 1 ? r.rows[0].join_micros : -1;
}

// The reason a single-row report was rejected ("" if it was accepted).
std::string RejectionOf(const std::string& join, const std::string& leave,
                        const std::string& email = "ada@example.org") {
  ParsedReport r = ParseOne(join, leave, email);
  EXPECT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.data_rows, 1);
  EXPECT_EQ(r.rows.size() + r.malformed.size(), 1u);
  if (r.malformed.size() != 1) return "";
  EXPECT_EQ(r.malformed[0].line, 2);
  return r.malformed[0].reason;
}

// ---------------------------------------------------------------------------------------------
// A realistic export.

TEST(ParseZoomReport, RealisticExportWithSummaryBomCrlfAndQuotedNames) {
  const std::string csv =
      "\xEF\xBB\xBF"
      "Meeting ID,Topic,Start Time,End Time,User Email,Duration (Minutes),Participants\r\n"
      "81234567890,\"Legislation webinar, session 2\",07/09/2020 12:00:30 AM,"
      "07/10/2020 12:20:00 AM,host@ecd.example.org,1400,3\r\n"
      "\r\n"
      "Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest,"
      "Recording Consent\r\n"
      "\"Okonjo-Iweala, Ngozi\",Ngozi.Okonjo@Example.org,07/09/2020 07:58:10 AM,"
      "07/09/2020 09:30:00 AM,92,Yes,Y\r\n"
      "Amadou Diallo (Amadou),amadou@example.sn,07/09/2020 11:50:00 AM,07/09/2020 12:10:30 PM,21,"
      "Yes,Y\r\n"
      "\"Okonjo-Iweala, Ngozi\",ngozi.okonjo@example.org,07/09/2020 09:15:00 AM,"
      "07/09/2020 10:00:00 AM,45,Yes,Y\r\n"
      "Amadou Diallo,AMADOU@example.sn,07/09/2020 11:50:00 PM,07/10/2020 12:05:00 AM,15,Yes,Y\r\n"
      "Host,host@ecd.example.org,07/09/2020 12:01:00 AM,07/09/2020 12:00:00 PM,719,No,\r\n";

  ParsedReport r = ParseZoomReport(csv);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.data_rows, 5);
  EXPECT_TRUE(r.malformed.empty());
  ASSERT_EQ(r.rows.size(), 5u);

  EXPECT_EQ(r.rows[0].line, 5);
  EXPECT_EQ(r.rows[0].email, "ngozi.okonjo@example.org");
  EXPECT_EQ(r.rows[0].join_micros, At(k2020Jul09, 7, 58, 10));
  EXPECT_EQ(r.rows[0].leave_micros, At(k2020Jul09, 9, 30));

  // Across noon: 11:50 AM to 12:10:30 PM.
  EXPECT_EQ(r.rows[1].line, 6);
  EXPECT_EQ(r.rows[1].email, "amadou@example.sn");
  EXPECT_EQ(r.rows[1].join_micros, At(k2020Jul09, 11, 50));
  EXPECT_EQ(r.rows[1].leave_micros, At(k2020Jul09, 12, 10, 30));

  EXPECT_EQ(r.rows[2].line, 7);
  EXPECT_EQ(r.rows[2].email, "ngozi.okonjo@example.org");

  // Across midnight: 11:50 PM to 12:05 AM the next day.
  EXPECT_EQ(r.rows[3].line, 8);
  EXPECT_EQ(r.rows[3].email, "amadou@example.sn");
  EXPECT_EQ(r.rows[3].join_micros, At(k2020Jul09, 23, 50));
  EXPECT_EQ(r.rows[3].leave_micros, At(k2020Jul10, 0, 5));

  // 12:01 AM is 00:01, 12:00 PM is noon.
  EXPECT_EQ(r.rows[4].line, 9);
  EXPECT_EQ(r.rows[4].join_micros, At(k2020Jul09, 0, 1));
  EXPECT_EQ(r.rows[4].leave_micros, At(k2020Jul09, 12, 0));

  const std::map<std::string, int> expected = {
      {"amadou@example.sn", 35},          // 20m30s + 15m
      {"host@ecd.example.org", 719},      // 00:01 to 12:00
      {"ngozi.okonjo@example.org", 121},  // 07:58:10 to 10:00:00, overlap once
  };
  EXPECT_EQ(MinutesByEmail(r.rows), expected);
}

TEST(ParseZoomReport, HeaderOnFirstLineLfAndNoFinalNewline) {
  ParsedReport r = ParseZoomReport(
      "Name,Email,Join Time,Leave Time\n"
      "A,a@example.org,07/09/2020 08:00:00,07/09/2020 09:00:00\n"
      "B,b@example.org,07/09/2020 08:00:00,07/09/2020 08:45:00");
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.data_rows, 2);
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[1].line, 3);
  EXPECT_EQ(r.rows[1].email, "b@example.org");
  EXPECT_EQ(r.rows[1].leave_micros, At(k2020Jul09, 8, 45));
}

TEST(ParseZoomReport, BomDirectlyBeforeTheParticipantsHeader) {
  // Without stripping the BOM the first column would be "\xEF\xBB\xBFUser Email", not an email
  // column.
  ParsedReport r = ParseZoomReport(
      "\xEF\xBB\xBFUser Email,Join Time,Leave Time\r\n"
      "a@example.org,07/09/2020 08:00:00 AM,07/09/2020 09:00:00 AM\r\n");
  ASSERT_TRUE(r.error.empty()) << r.error;
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].line, 2);
  EXPECT_EQ(r.rows[0].email, "a@example.org");
}

TEST(ParseZoomReport, HeaderNamesCaseInsensitiveTrimmedAnyOrder) {
  ParsedReport r = ParseZoomReport(
      "Guest, LEAVE TIME ,Duration (minutes),\" join time\",user email,Recording Consent\n"
      "No,07/09/2020 09:00:00,60,07/09/2020 08:00:00,  Ada@Example.ORG ,Y\n");
  ASSERT_TRUE(r.error.empty()) << r.error;
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].email, "ada@example.org");
  EXPECT_EQ(r.rows[0].join_micros, At(k2020Jul09, 8, 0));
  EXPECT_EQ(r.rows[0].leave_micros, At(k2020Jul09, 9, 0));
}

TEST(ParseZoomReport, OldMacLineEndsCount) {
  ParsedReport r = ParseZoomReport(
      "Email,Join Time,Leave Time\r"
      "a@example.org,07/09/2020 08:00,07/09/2020 09:00\r"
      "b@example.org,junk,07/09/2020 09:00\r");
  ASSERT_TRUE(r.error.empty()) << r.error;
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].line, 2);
  ASSERT_EQ(r.malformed.size(), 1u);
  EXPECT_EQ(r.malformed[0].line, 3);
}

TEST(ParseZoomReport, BlankAndEmptyFieldLinesAreNotRows) {
  ParsedReport r = ParseZoomReport(
      "\n"
      "   \n"
      "User Email,Join Time,Leave Time\n"
      "\n"
      ",,\n"
      " , ,\t\n"
      "\"\",\"\",\"\"\n"
      "a@example.org,07/09/2020 08:00,07/09/2020 09:00\n"
      "\r\n");
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.data_rows, 1);
  EXPECT_TRUE(r.malformed.empty());
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].line, 8);
}

TEST(ParseZoomReport, HeaderWithoutRowsIsAnEmptyReport) {
  ParsedReport r = ParseZoomReport("Name (Original Name),User Email,Join Time,Leave Time\r\n");
  EXPECT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.data_rows, 0);
  EXPECT_TRUE(r.rows.empty());
  EXPECT_TRUE(r.malformed.empty());
}

// ---------------------------------------------------------------------------------------------
// No participants table.

TEST(ParseZoomReport, NoParticipantsHeaderIsAnError) {
  ParsedReport r = ParseZoomReport(
      "Meeting ID,Topic,Start Time,End Time,User Email,Duration (Minutes),Participants\r\n"
      "81234567890,Webinar,07/09/2020 08:00:00 AM,07/09/2020 09:00:00 AM,h@example.org,60,2\r\n"
      "\r\n"
      "Name,User Email,Join Time,Duration (Minutes)\r\n"
      "A,a@example.org,07/09/2020 08:00:00 AM,60\r\n");
  EXPECT_FALSE(r.error.empty());
  EXPECT_NE(r.error.find("Join Time"), std::string::npos) << r.error;
  EXPECT_EQ(r.data_rows, 0);
  EXPECT_TRUE(r.rows.empty());
  EXPECT_TRUE(r.malformed.empty());
}

TEST(ParseZoomReport, EmptyInputIsAnError) {
  for (const char* csv : {"", "\xEF\xBB\xBF", "\r\n\r\n", "   "}) {
    ParsedReport r = ParseZoomReport(csv);
    EXPECT_FALSE(r.error.empty()) << '"' << csv << '"';
    EXPECT_EQ(r.data_rows, 0);
    EXPECT_TRUE(r.rows.empty());
    EXPECT_TRUE(r.malformed.empty());
  }
}

TEST(ParseZoomReport, ParticipantsTableWithoutEmailColumnIsReadWithoutEmails) {
  // The 2020 webinar report's "Other Attended" section has no email column: its rows are read
  // and match nobody.
  ParsedReport r = ParseZoomReport(
      "Name,Join Time,Leave Time\n"
      "A,07/09/2020 08:00,07/09/2020 09:00\n");
  EXPECT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.data_rows, 1);
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].email, "");
  EXPECT_TRUE(MinutesInSlot(r, kWideStart, kWideEnd).minutes_by_email.empty());
}

// ---------------------------------------------------------------------------------------------
// Malformed rows.

TEST(ParseZoomReport, MalformedRowsReportedWithLinesGoodRowsKept) {
  ParsedReport r = ParseZoomReport(
      "Meeting ID,Topic,Start Time,End Time,User Email,Duration (Minutes),Participants\n"  // 1
      "1,T,07/09/2020 08:00:00 AM,07/09/2020 09:00:00 AM,h@example.org,60,9\n"             // 2
      "\n"                                                                                 // 3
      "Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes)\n"          // 4
      "Good,good@example.org,07/09/2020 08:00:00 AM,07/09/2020 09:00:00 AM,60\n"           // 5
      "Feb30,f@example.org,02/30/2020 08:00:00 AM,02/30/2020 09:00:00 AM,60\n"             // 6
      "Month13,m@example.org,13/09/2020 08:00:00 AM,13/09/2020 09:00:00 AM,60\n"           // 7
      "Backwards,b@example.org,07/09/2020 09:00:00 AM,07/09/2020 08:59:59 AM,0\n"          // 8
      "NoEmail,,07/09/2020 08:00:00 AM,07/09/2020 09:00:00 AM,60\n"                        // 9
      "Short,s@example.org,07/09/2020 08:00:00 AM\n"                                       // 10
      "Garbage,g@example.org,07/09/2020 08:00:00 AM,after lunch,60\n"                      // 11
      "\n"                                                                                 // 12
      "BadEmail,not-an-email,07/09/2020 08:00:00 AM,07/09/2020 09:00:00 AM,60\n"           // 13
      "Blank,   ,07/09/2020 08:00:00 AM,07/09/2020 09:00:00 AM,60\n"                       // 14
      "Good2,good2@example.org,07/09/2020 10:00:00 AM,07/09/2020 10:30:00 AM,30\n");       // 15
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.data_rows, 10);

  // Rows without an email (guests) are read: they match nobody, but they are not malformed.
  ASSERT_EQ(r.rows.size(), 4u);
  EXPECT_EQ(r.rows[0].line, 5);
  EXPECT_EQ(r.rows[0].email, "good@example.org");
  EXPECT_EQ(r.rows[1].line, 9);
  EXPECT_EQ(r.rows[1].email, "");
  EXPECT_EQ(r.rows[2].line, 14);
  EXPECT_EQ(r.rows[2].email, "");
  EXPECT_EQ(r.rows[3].line, 15);
  EXPECT_EQ(r.rows[3].email, "good2@example.org");

  std::vector<std::pair<int, std::string>> got;
  for (const MalformedLine& m : r.malformed) got.emplace_back(m.line, m.reason);
  const std::vector<std::pair<int, std::string>> expected = {
      {6, "invalid join time"}, {7, "invalid join time"},   {8, "leave time before join time"},
      {10, "too few fields"},   {11, "invalid leave time"}, {13, "invalid email"},
  };
  EXPECT_EQ(got, expected);
}

TEST(ParseZoomReport, LeaveEqualToJoinIsKeptWithZeroMinutes) {
  ParsedReport r = ParseOne("07/09/2020 08:00:00", "07/09/2020 08:00:00");
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_TRUE(r.malformed.empty());
  EXPECT_EQ(r.rows[0].join_micros, r.rows[0].leave_micros);
  EXPECT_EQ(MinutesByEmail(r.rows), (std::map<std::string, int>{{"ada@example.org", 0}}));
  // One second earlier is malformed.
  EXPECT_EQ(RejectionOf("07/09/2020 08:00:00", "07/09/2020 07:59:59"),
            "leave time before join time");
}

TEST(ParseZoomReport, ShortRowCountsAgainstTheLastNeededColumn) {
  // The email is in the 4th column: a row with 3 fields is short even though join/leave exist.
  ParsedReport r = ParseZoomReport(
      "Join Time,Leave Time,Name,Email\n"
      "07/09/2020 08:00,07/09/2020 09:00,Ada\n"
      "07/09/2020 08:00,07/09/2020 09:00,Ada,ada@example.org,extra,columns\n");
  ASSERT_EQ(r.malformed.size(), 1u);
  EXPECT_EQ(r.malformed[0].line, 2);
  EXPECT_EQ(r.malformed[0].reason, "too few fields");
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].line, 3);
}

// ---------------------------------------------------------------------------------------------
// Quoting.

TEST(ParseZoomReport, EmbeddedNewlinesKeepLaterLineNumbers) {
  ParsedReport r = ParseZoomReport(
      "Name (Original Name),User Email,Join Time,Leave Time\r\n"                    // 1
      "\"Diallo, Amadou\r\n(Dakar office)\",a@example.org,07/09/2020 08:00:00 AM,"  // 2-3
      "07/09/2020 09:00:00 AM\r\n"
      "\"Say \"\"hi\"\", then\n\nbye\n\",b@example.org,07/09/2020 08:00:00 AM,"  // 4-7
      "07/09/2020 08:30:00 AM\n"
      "Broken,c@example.org,07/09/2020 08:00:00 AM,02/29/2021 08:30:00 AM\r\n"  // 8
      "Fine,d@example.org,07/09/2020 08:00:00 AM,07/09/2020 08:10:00 AM\r\n");  // 9
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.data_rows, 4);
  ASSERT_EQ(r.rows.size(), 3u);
  EXPECT_EQ(r.rows[0].line, 2);
  EXPECT_EQ(r.rows[0].email, "a@example.org");
  EXPECT_EQ(r.rows[1].line, 4);
  EXPECT_EQ(r.rows[1].email, "b@example.org");
  EXPECT_EQ(r.rows[2].line, 9);
  EXPECT_EQ(r.rows[2].email, "d@example.org");
  ASSERT_EQ(r.malformed.size(), 1u);
  EXPECT_EQ(r.malformed[0].line, 8);
  EXPECT_EQ(r.malformed[0].reason, "invalid leave time");
}

TEST(ParseZoomReport, QuotedTimesAndEmails) {
  ParsedReport r = ParseZoomReport(
      "\"User Email\",\"Join Time\",\"Leave Time\"\n"
      "\"Ada@Example.org\",\"07/09/2020 08:00:00 AM\",\"07/09/2020 09:00:00 AM\"\n"
      "\"\"\"Ada\"\"@Example.org\",07/09/2020 08:00:00 AM,07/09/2020 09:00:00 AM\n");
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0].email, "ada@example.org");
  EXPECT_EQ(r.rows[1].email, "\"ada\"@example.org");  // doubled quotes are one quote
  EXPECT_EQ(r.rows[0].leave_micros, At(k2020Jul09, 9, 0));
}

TEST(ParseZoomReport, UnterminatedQuoteIsMalformedAtItsStart) {
  ParsedReport r = ParseZoomReport(
      "Name,Email,Join Time,Leave Time\n"
      "A,a@example.org,07/09/2020 08:00,07/09/2020 09:00\n"
      "\"B,b@example.org,07/09/2020 08:00,07/09/2020 09:00\n"
      "C,c@example.org,07/09/2020 08:00,07/09/2020 09:00\n");
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.data_rows, 2);  // the open quote swallows the rest of the file
  ASSERT_EQ(r.rows.size(), 1u);
  ASSERT_EQ(r.malformed.size(), 1u);
  EXPECT_EQ(r.malformed[0].line, 3);
  EXPECT_EQ(r.malformed[0].reason, "unterminated quoted field");
}

// ---------------------------------------------------------------------------------------------
// Emails.

TEST(ParseZoomReport, EmailValidation) {
  const std::string at = "07/09/2020 08:00", to = "07/09/2020 09:00";
  EXPECT_EQ(RejectionOf(at, to, "no-at-sign.example.org"), "invalid email");
  EXPECT_EQ(RejectionOf(at, to, "@example.org"), "invalid email");
  EXPECT_EQ(RejectionOf(at, to, "ada@"), "invalid email");
  EXPECT_EQ(RejectionOf(at, to, "ada lovelace@example.org"), "invalid email");
  EXPECT_EQ(RejectionOf(at, to, "ada@exa\tmple.org"), "invalid email");
  EXPECT_EQ(RejectionOf(at, to, ""), "");  // a guest: read, matches nobody
  EXPECT_EQ(RejectionOf(at, to, " \t "), "");

  const std::string domain = "@example.org";  // 12 characters
  EXPECT_EQ(RejectionOf(at, to, std::string(254 - domain.size(), 'a') + domain), "");
  EXPECT_EQ(RejectionOf(at, to, std::string(255 - domain.size(), 'a') + domain), "invalid email");
  // Length is checked after trimming.
  EXPECT_EQ(RejectionOf(at, to, "  " + std::string(254 - domain.size(), 'a') + domain + "  "), "");

  EXPECT_EQ(RejectionOf(at, to, "a@b"), "");
}

TEST(ParseZoomReport, SameEmailInDifferentCaseIsMerged) {
  ParsedReport r = ParseZoomReport(
      "User Email,Join Time,Leave Time\n"
      "Ada@Example.org,07/09/2020 08:00:00 AM,07/09/2020 08:30:00 AM\n"
      " ADA@EXAMPLE.ORG ,07/09/2020 08:20:00 AM,07/09/2020 09:00:00 AM\n"
      "ada@example.org,07/09/2020 10:00:00 AM,07/09/2020 10:05:00 AM\n");
  ASSERT_EQ(r.rows.size(), 3u);
  for (const AttendanceRow& row : r.rows) EXPECT_EQ(row.email, "ada@example.org");
  EXPECT_EQ(MinutesByEmail(r.rows), (std::map<std::string, int>{{"ada@example.org", 65}}));
}

// ---------------------------------------------------------------------------------------------
// Times.

TEST(ParseZoomReport, AllTimeFormatsGiveTheSameInstant) {
  const int64_t expected = At(k2020Jul09, 14, 5, 9);
  EXPECT_EQ(JoinOf("07/09/2020 02:05:09 PM"), expected);
  EXPECT_EQ(JoinOf("7/9/2020 2:05:09 PM"), expected);
  EXPECT_EQ(JoinOf("07/09/2020 02:05:09 pm"), expected);
  EXPECT_EQ(JoinOf("07/09/2020 14:05:09"), expected);
  EXPECT_EQ(JoinOf("  07/09/2020 14:05:09  "), expected);
  EXPECT_EQ(JoinOf("2020-07-09 14:05:09"), expected);
  EXPECT_EQ(JoinOf("2020-07-09T14:05:09Z"), expected);
  EXPECT_EQ(JoinOf("2020-07-09T14:05:09+00:00"), expected);
  EXPECT_EQ(JoinOf("2020-07-09T16:05:09+02:00"), expected);
  EXPECT_EQ(JoinOf("2020-07-09T09:05:09-05:00"), expected);
  EXPECT_EQ(JoinOf("07/09/2020 14:05"), At(k2020Jul09, 14, 5));
  EXPECT_EQ(JoinOf("2020-07-09T14:05:09.25Z"), expected + 250'000);
}

TEST(ParseZoomReport, TwelveHourClock) {
  EXPECT_EQ(JoinOf("07/09/2020 12:00:00 AM"), At(k2020Jul09, 0, 0));
  EXPECT_EQ(JoinOf("07/09/2020 12:59:59 AM"), At(k2020Jul09, 0, 59, 59));
  EXPECT_EQ(JoinOf("07/09/2020 01:00:00 AM"), At(k2020Jul09, 1, 0));
  EXPECT_EQ(JoinOf("07/09/2020 11:59:59 AM"), At(k2020Jul09, 11, 59, 59));
  EXPECT_EQ(JoinOf("07/09/2020 12:00:00 PM"), At(k2020Jul09, 12, 0));
  EXPECT_EQ(JoinOf("07/09/2020 12:30:00 PM"), At(k2020Jul09, 12, 30));
  EXPECT_EQ(JoinOf("07/09/2020 01:00:00 PM"), At(k2020Jul09, 13, 0));
  EXPECT_EQ(JoinOf("07/09/2020 11:59:59 PM"), At(k2020Jul09, 23, 59, 59));
  // Hours outside 1..12 with a meridiem, and unknown meridiems.
  EXPECT_EQ(JoinOf("07/09/2020 00:30:00 AM"), -1);
  EXPECT_EQ(JoinOf("07/09/2020 13:00:00 PM"), -1);
  EXPECT_EQ(JoinOf("07/09/2020 08:00:00 XM"), -1);
  EXPECT_EQ(JoinOf("07/09/2020 08:00:00 A.M."), -1);
  EXPECT_EQ(JoinOf("07/09/2020 08:00:00 AM PM"), -1);
}

TEST(ParseZoomReport, IsoOffsetsConvertToUtcAcrossDays) {
  // +05:30 pulls 01:30 back to the previous day; -02:00 pushes 23:00 into the next year.
  EXPECT_EQ(JoinOf("2020-07-10T01:30:00+05:30"), At(k2020Jul09, 20, 0));
  EXPECT_EQ(JoinOf("2020-12-31T23:00:00-02:00"), At(k2021Jan01, 1, 0));
  EXPECT_EQ(JoinOf("2020-07-09t08:00:00z"), At(k2020Jul09, 8, 0));

  ParsedReport r = ParseOne("2020-07-09T10:00:00+02:00", "2020-07-09T08:30:00Z");
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].join_micros, At(k2020Jul09, 8, 0));
  EXPECT_EQ(r.rows[0].leave_micros, At(k2020Jul09, 8, 30));
  EXPECT_EQ(MinutesByEmail(r.rows), (std::map<std::string, int>{{"ada@example.org", 30}}));

  // In local terms the leave looks later, in UTC it is earlier.
  EXPECT_EQ(RejectionOf("2020-07-09T08:00:00Z", "2020-07-09T09:00:00+02:00"),
            "leave time before join time");
}

TEST(ParseZoomReport, LeapDays) {
  EXPECT_EQ(JoinOf("02/29/2020 08:00:00 AM"), At(k2020Feb29, 8, 0));
  EXPECT_EQ(JoinOf("2020-02-29 08:00:00"), At(k2020Feb29, 8, 0));
  EXPECT_EQ(JoinOf("02/29/2000 00:00:00"), At(k2000Feb29, 0, 0));  // divisible by 400
  EXPECT_EQ(JoinOf("03/01/2020 00:00:00"), At(k2020Feb29, 24, 0));
  EXPECT_EQ(RejectionOf("02/29/2021 08:00:00 AM", "03/01/2021 08:00:00 AM"), "invalid join time");
  EXPECT_EQ(RejectionOf("2021-02-29 08:00:00", "2021-03-01 08:00:00"), "invalid join time");
  EXPECT_EQ(JoinOf("02/29/1900 08:00:00"), -1);  // divisible by 100 only
}

TEST(ParseZoomReport, OutOfRangeAndGarbageTimesRejected) {
  for (const char* bad : {
           "02/30/2020 08:00:00",        // no such day
           "04/31/2020 08:00:00",        // April has 30
           "01/32/2020 08:00:00",        //
           "00/10/2020 08:00:00",        // month 0
           "13/13/2020 08:00:00",        // month 13 either way
           "07/00/2020 08:00:00",        // day 0
           "07/09/2020 24:00:00",        // hour 24
           "07/09/2020 08:60:00",        // minute 60
           "07/09/2020 08:00:60",        // second 60
           "07/09/2020 8:0:00",          // one-digit minute
           "07/09/20 08:00:00",          // two-digit year
           "07/09/20201 08:00:00",       // five-digit year
           "07/09/0000 08:00:00",        // year 0
           "07/09/2020",                 // no time
           "07/09/2020 08",              // no minutes
           "07/09/2020T08:00:00",        //
           "07/09/2020 08:00:00AM",      // meridiem must be separated
           "2020-13-09 08:00:00",        //
           "2020-7-9 08:00:00",          // ISO needs two digits
           "2020-07-09",                 //
           "2020-07-09T08:00:00+24:00",  // offset hours
           "2020-07-09T08:00:00+02:60",  // offset minutes
           "2020-07-09T08:00:00+2:00",   // offset hours need two digits
           "2020-07-09T08:00:00 Z",      //
           "2020-07-09T08:00:00Zjunk",   //
           "2020-07-09T08:00:00.Z",      // empty fraction
           "2020-07-09T08:00:00.1234567Z",
           "2020-07-09X08:00:00",
           "yesterday",
           "",
           "-1",
       }) {
    EXPECT_EQ(RejectionOf(bad, "12/31/2099 23:59:59"), "invalid join time") << bad;
    EXPECT_EQ(RejectionOf("01/01/2020 00:00:00", bad), "invalid leave time") << bad;
  }
}

// ---------------------------------------------------------------------------------------------
// MinutesByEmail.

TEST(MinutesByEmail, OverlapsCountOnce) {
  EXPECT_EQ(MinutesByEmail({Row("a@x.org", At(k2020Jul09, 8, 0), At(k2020Jul09, 8, 30)),
                            Row("a@x.org", At(k2020Jul09, 8, 20), At(k2020Jul09, 9, 0))}),
            (std::map<std::string, int>{{"a@x.org", 60}}));
}

TEST(MinutesByEmail, RejoinsAddUp) {
  EXPECT_EQ(MinutesByEmail({Row("a@x.org", At(k2020Jul09, 8, 0), At(k2020Jul09, 8, 10)),
                            Row("a@x.org", At(k2020Jul09, 8, 30), At(k2020Jul09, 8, 40))}),
            (std::map<std::string, int>{{"a@x.org", 20}}));
}

TEST(MinutesByEmail, NestedIntervalCountsOnce) {
  EXPECT_EQ(MinutesByEmail({Row("a@x.org", At(k2020Jul09, 8, 0), At(k2020Jul09, 9, 0)),
                            Row("a@x.org", At(k2020Jul09, 8, 15), At(k2020Jul09, 8, 45))}),
            (std::map<std::string, int>{{"a@x.org", 60}}));
  // A nested interval followed by one that overlaps only the outer one: the merge must keep the
  // outer end, not the nested one's.
  EXPECT_EQ(MinutesByEmail({Row("a@x.org", At(k2020Jul09, 8, 0), At(k2020Jul09, 9, 0)),
                            Row("a@x.org", At(k2020Jul09, 8, 10), At(k2020Jul09, 8, 15)),
                            Row("a@x.org", At(k2020Jul09, 8, 50), At(k2020Jul09, 9, 10))}),
            (std::map<std::string, int>{{"a@x.org", 70}}));
}

TEST(MinutesByEmail, TouchingAndChainedIntervalsMerge) {
  EXPECT_EQ(MinutesByEmail({Row("a@x.org", At(k2020Jul09, 8, 0), At(k2020Jul09, 8, 30)),
                            Row("a@x.org", At(k2020Jul09, 8, 30), At(k2020Jul09, 9, 0))}),
            (std::map<std::string, int>{{"a@x.org", 60}}));
  // 20s + 20s: touching pieces are summed before rounding down.
  EXPECT_EQ(MinutesByEmail({Row("a@x.org", At(k2020Jul09, 8, 0, 0), At(k2020Jul09, 8, 0, 40)),
                            Row("a@x.org", At(k2020Jul09, 8, 0, 40), At(k2020Jul09, 8, 1, 20))}),
            (std::map<std::string, int>{{"a@x.org", 1}}));
  EXPECT_EQ(MinutesByEmail({Row("a@x.org", At(k2020Jul09, 8, 35), At(k2020Jul09, 9, 0)),
                            Row("a@x.org", At(k2020Jul09, 8, 0), At(k2020Jul09, 8, 20)),
                            Row("a@x.org", At(k2020Jul09, 8, 10), At(k2020Jul09, 8, 40))}),
            (std::map<std::string, int>{{"a@x.org", 60}}));
}

TEST(MinutesByEmail, RemainderRoundsDownAfterSumming) {
  const int64_t start = At(k2020Jul09, 8, 0);
  EXPECT_EQ(MinutesByEmail({Row("a@x.org", start, start + 59'900'000)}),
            (std::map<std::string, int>{{"a@x.org", 0}}));
  EXPECT_EQ(MinutesByEmail({Row("a@x.org", start, start + 10 * kMinute + 59'900'000)}),
            (std::map<std::string, int>{{"a@x.org", 10}}));
  EXPECT_EQ(MinutesByEmail({Row("a@x.org", start, start + 11 * kMinute - 1)}),
            (std::map<std::string, int>{{"a@x.org", 10}}));
  EXPECT_EQ(MinutesByEmail({Row("a@x.org", start, start + 11 * kMinute)}),
            (std::map<std::string, int>{{"a@x.org", 11}}));
  // Two disjoint 30.5 s visits make 61 s: one minute, though each alone is zero.
  EXPECT_EQ(MinutesByEmail({Row("a@x.org", start, start + 30'500'000),
                            Row("a@x.org", start + kMinute, start + kMinute + 30'500'000)}),
            (std::map<std::string, int>{{"a@x.org", 1}}));
}

TEST(MinutesByEmail, PeopleAreSeparateAndEmailsNormalised) {
  EXPECT_EQ(MinutesByEmail({Row("A@X.org", At(k2020Jul09, 8, 0), At(k2020Jul09, 8, 30)),
                            Row("b@x.org", At(k2020Jul09, 8, 0), At(k2020Jul09, 9, 0)),
                            Row(" a@x.ORG", At(k2020Jul09, 8, 15), At(k2020Jul09, 8, 45))}),
            (std::map<std::string, int>{{"a@x.org", 45}, {"b@x.org", 60}}));
}

TEST(MinutesByEmail, EmptyAndDegenerateInputs) {
  EXPECT_TRUE(MinutesByEmail({}).empty());
  // Zero-length and inverted intervals credit nothing but the person is listed; no email at all is
  // not listed.
  EXPECT_EQ(MinutesByEmail({Row("a@x.org", At(k2020Jul09, 8, 0), At(k2020Jul09, 8, 0)),
                            Row("b@x.org", At(k2020Jul09, 9, 0), At(k2020Jul09, 8, 0)),
                            Row("  ", At(k2020Jul09, 8, 0), At(k2020Jul09, 9, 0))}),
            (std::map<std::string, int>{{"a@x.org", 0}, {"b@x.org", 0}}));
}

TEST(MinutesByEmail, HugeSpansSaturate) {
  EXPECT_EQ(MinutesByEmail({Row("a@x.org", INT64_MIN, INT64_MAX)}),
            (std::map<std::string, int>{{"a@x.org", INT_MAX}}));
  ParsedReport r = ParseOne("0001-01-01 00:00:00", "9999-12-31T23:59:59Z");
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(MinutesByEmail(r.rows), (std::map<std::string, int>{{"ada@example.org", INT_MAX}}));
  // Within a 100-minute slot, the same rows count the slot.
  const int64_t start = At(k2020Jul09, 8, 0);
  EXPECT_EQ(MinutesByEmail(r.rows, start, start + 100 * kMinute),
            (std::map<std::string, int>{{"ada@example.org", 100}}));
}

// ---------------------------------------------------------------------------------------------
// Scale: these finish quickly only if nothing is quadratic in the number of rows.

TEST(ParseZoomReport, ManyRows) {
  constexpr int kRows = 100'000;
  std::string csv = "Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes)\n";
  for (int i = 0; i < kRows; ++i) {
    csv += "\"Person, " + std::to_string(i) + "\",p" + std::to_string(i % 1000) +
           "@example.org,2020-07-09T08:00:00Z,2020-07-09T09:00:00Z,60\n";
  }
  ASSERT_LT(csv.size(), 10u << 20);
  ParsedReport r = ParseZoomReport(csv);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.data_rows, kRows);
  ASSERT_EQ(r.rows.size(), static_cast<size_t>(kRows));
  EXPECT_EQ(r.rows.back().line, kRows + 1);
  std::map<std::string, int> minutes = MinutesByEmail(r.rows);
  EXPECT_EQ(minutes.size(), 1000u);
  EXPECT_EQ(minutes["p999@example.org"], 60);
}

TEST(MinutesByEmail, ManyIntervalsOfOnePerson) {
  // 200,000 one-minute intervals starting every 30 s, given in reverse order: 100,000.5 minutes.
  constexpr int kIntervals = 200'000;
  std::vector<AttendanceRow> rows;
  const int64_t start = At(k2020Jul09, 0, 0);
  for (int i = kIntervals - 1; i >= 0; --i) {
    rows.push_back(Row("a@x.org", start + i * 30 * kSecond, start + i * 30 * kSecond + kMinute));
  }
  EXPECT_EQ(MinutesByEmail(rows), (std::map<std::string, int>{{"a@x.org", 100'000}}));
}

TEST(ParseZoomReport, HugeRecordIsReadWithoutTrouble) {
  // A single record with a million commas, and a single huge quoted field.
  std::string csv = "User Email,Join Time,Leave Time\n";
  csv += "a@example.org,07/09/2020 08:00,07/09/2020 09:00" + std::string(1'000'000, ',') + "\n";
  csv += "\"" + std::string(2'000'000, 'x') + "\",07/09/2020 08:00,07/09/2020 09:00\n";
  csv += "b@example.org,07/09/2020 08:00,07/09/2020 09:00\n";
  ParsedReport r = ParseZoomReport(csv);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.data_rows, 3);
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0].line, 2);
  EXPECT_EQ(r.rows[1].line, 4);
  ASSERT_EQ(r.malformed.size(), 1u);
  EXPECT_EQ(r.malformed[0].reason, "invalid email");
}

// ---------------------------------------------------------------------------------------------
// The sample reports of tests/fixtures/zoom (make_samples.py says who attended when, and why the
// hand count is what it is). The event: 2020-07-09 08:00-09:40 UTC, 100 minutes.

std::string Sample(const std::string& name) {
  std::ifstream in(std::string(ECD_ZOOM_FIXTURES) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

const int64_t kSlotStart = At(k2020Jul09, 8, 0);
const int64_t kSlotEnd = At(k2020Jul09, 9, 40);

ReportOptions InZone(const char* zone) {
  auto z = TimeZone::Find(zone);
  EXPECT_TRUE(z.has_value()) << zone;
  return ReportOptions{*z, kSlotStart, kSlotEnd};
}

// What a person counting by hand gets for the registered people and the stranger.
const std::map<std::string, int> kHandCount = {
    {"awa.diop@justice.gouv.sn", 75},     {"ngozi.okonjo@justice.gov.ng", 70},
    {"moussa.ba@interieur.gouv.sn", 74},  {"aminata.toure@mae.gouv.ml", 0},
    {"fatima.zahra@justice.gov.ma", 100}, {"kofi.mensah@mint.gov.gh", 0},
    {"jean.dupont@example.org", 60},
};

std::map<std::string, int> PeopleOf(const Attendance& a) {
  std::map<std::string, int> out;
  for (const auto& [email, minutes] : a.minutes_by_email) {
    if (kHandCount.count(email) != 0) out[email] = minutes;
  }
  return out;
}

std::vector<std::pair<int, std::string>> Malformed(const ParsedReport& r) {
  std::vector<std::pair<int, std::string>> out;
  for (const auto& m : r.malformed) out.emplace_back(m.line, m.reason);
  return out;
}

int NotAttended(const ParsedReport& r) {
  return static_cast<int>(
      std::count_if(r.rows.begin(), r.rows.end(), [](const auto& row) { return !row.attended; }));
}

int WithoutEmail(const ParsedReport& r) {
  return static_cast<int>(std::count_if(r.rows.begin(), r.rows.end(),
                                        [](const auto& row) { return row.email.empty(); }));
}

TEST(ZoomSamples, MeetingParticipants2020WithSummaryInParisTime) {
  ParsedReport r =
      ParseZoomReport(Sample("meeting_participants_2020_paris.csv"), InZone("Europe/Paris"));
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.format, ReportFormat::kZoomMeetingParticipants);
  EXPECT_FALSE(r.unique_users);
  EXPECT_EQ(r.time_format, "MM/DD/YYYY hh:mm:ss AM/PM");
  // The summary's start and end, 09:45:00 and 11:52:00 in Paris.
  EXPECT_EQ(r.meeting_start_micros, At(k2020Jul09, 7, 45));
  EXPECT_EQ(r.meeting_end_micros, At(k2020Jul09, 9, 52));
  EXPECT_EQ(r.data_rows, 18);
  EXPECT_EQ(r.skipped_rows, 0);
  EXPECT_EQ(Malformed(r), (std::vector<std::pair<int, std::string>>{{20, "invalid leave time"},
                                                                    {21, "invalid UTF-8"}}));
  EXPECT_EQ(NotAttended(r), 2);  // two waiting-room rows
  EXPECT_EQ(WithoutEmail(r), 1);
  Attendance a = MinutesInSlot(r, kSlotStart, kSlotEnd);
  EXPECT_EQ(PeopleOf(a), kHandCount);
  // In a meetings report the host and panelists are rows like any other (they match nobody).
  EXPECT_EQ(a.minutes_by_email.at("webinars@eucyberdirect.example.eu"), 100);
  ASSERT_EQ(a.out_of_slot.size(), 1u);
  EXPECT_EQ(a.out_of_slot[0].email, "kofi.mensah@mint.gov.gh");
  EXPECT_NE(a.out_of_slot[0].reason.find("2020-07-08T08:00:00Z"), std::string::npos)
      << a.out_of_slot[0].reason;
}

TEST(ZoomSamples, MeetingParticipants2025WithoutSummaryInUtc) {
  ParsedReport r = ParseZoomReport(Sample("meeting_participants_2025_utc.csv"), InZone("UTC"));
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.format, ReportFormat::kZoomMeetingParticipants);
  EXPECT_EQ(r.meeting_start_micros, 0);
  EXPECT_EQ(r.data_rows, 14);
  EXPECT_EQ(Malformed(r), (std::vector<std::pair<int, std::string>>{{14, "invalid leave time"},
                                                                    {15, "invalid UTF-8"}}));
  EXPECT_EQ(PeopleOf(MinutesInSlot(r, kSlotStart, kSlotEnd)), kHandCount);
}

TEST(ZoomSamples, UniqueUsersCountTotalsWithinTheMeetingsPartOfTheSlot) {
  ParsedReport r = ParseZoomReport(Sample("meeting_participants_unique_users_paris.csv"),
                                   InZone("Europe/Paris"));
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.format, ReportFormat::kZoomMeetingParticipants);
  EXPECT_TRUE(r.unique_users);
  EXPECT_TRUE(r.malformed.empty());
  // Totals as Zoom sums them (overlapping sessions twice), never more than the slot: without
  // join and leave times nothing finer can be known.
  const std::map<std::string, int> expected = {
      {"awa.diop@justice.gouv.sn", 85},    {"ngozi.okonjo@justice.gov.ng", 100},
      {"moussa.ba@interieur.gouv.sn", 84}, {"fatima.zahra@justice.gov.ma", 100},
      {"kofi.mensah@mint.gov.gh", 60},     {"jean.dupont@example.org", 60},
  };
  EXPECT_EQ(PeopleOf(MinutesInSlot(r, kSlotStart, kSlotEnd)), expected);
  // A meeting held on another day than the event's slot credits nobody.
  Attendance other_day = MinutesInSlot(r, kSlotStart + 86400 * kSecond, kSlotEnd + 86400 * kSecond);
  EXPECT_EQ(other_day.minutes_by_email.at("awa.diop@justice.gouv.sn"), 0);
  EXPECT_EQ(other_day.out_of_slot.size(), 7u);
}

TEST(ZoomSamples, WebinarAttendees2020CountsOnlyAttendeeSections) {
  ParsedReport r =
      ParseZoomReport(Sample("webinar_attendees_2020_dakar.csv"), InZone("Africa/Dakar"));
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.format, ReportFormat::kZoomWebinarAttendees);
  EXPECT_EQ(r.time_format, "Mon D, YYYY HH:mm:ss");
  EXPECT_EQ(r.skipped_rows, 2);  // host, panelist
  EXPECT_EQ(r.data_rows, 15);    // 14 attendee rows and one "Other Attended"
  EXPECT_EQ(Malformed(r), (std::vector<std::pair<int, std::string>>{{25, "invalid leave time"},
                                                                    {26, "invalid UTF-8"}}));
  EXPECT_EQ(NotAttended(r), 1);
  EXPECT_EQ(WithoutEmail(r), 1);  // "Other Attended" has no email column
  Attendance a = MinutesInSlot(r, kSlotStart, kSlotEnd);
  EXPECT_EQ(PeopleOf(a), kHandCount);
  EXPECT_EQ(a.minutes_by_email.count("webinars@eucyberdirect.example.eu"), 0u);
  EXPECT_EQ(a.minutes_by_email.count("alexander.seger@coe.example.int"), 0u);
}

TEST(ZoomSamples, WebinarAttendees2025SameMinutesInEveryZone) {
  for (const auto& [file, zone] :
       {std::pair{"webinar_attendees_2025_paris.csv", "Europe/Paris"},
        std::pair{"webinar_attendees_2025_new_york.csv", "America/New_York"}}) {
    SCOPED_TRACE(file);
    ParsedReport r = ParseZoomReport(Sample(file), InZone(zone));
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.format, ReportFormat::kZoomWebinarAttendees);
    EXPECT_EQ(r.skipped_rows, 3);  // host, panelist, and Awa while she was a panelist
    EXPECT_EQ(r.data_rows, 14);
    EXPECT_EQ(NotAttended(r), 1);
    EXPECT_EQ(r.malformed.size(), 2u);
    EXPECT_EQ(PeopleOf(MinutesInSlot(r, kSlotStart, kSlotEnd)), kHandCount);
  }
  // Read in the wrong zone, the same file gives other figures: the zone matters.
  ParsedReport wrong =
      ParseZoomReport(Sample("webinar_attendees_2025_new_york.csv"), InZone("UTC"));
  EXPECT_NE(PeopleOf(MinutesInSlot(wrong, kSlotStart, kSlotEnd)), kHandCount);
}

TEST(ZoomSamples, OtherFilesAreNotReports) {
  for (const std::string& csv : {
           std::string("Topic,ID,Host,Duration (minutes),Start time,End time,Participants\n"
                       "Webinar,84759841045,Host (h@x.org),100,07/09/2020 08:00:00 AM,"
                       "07/09/2020 09:40:00 AM,9\n"),  // the meetings list, not participants
           std::string("Registration ID,First Name,Last Name,Email,Registration Time\n"
                       "1,Awa,Diop,awa.diop@justice.gouv.sn,07/01/2020 10:00:00 AM\n"),
           std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16),
       }) {
    ParsedReport r = ParseZoomReport(csv);
    EXPECT_FALSE(r.error.empty()) << csv;
    EXPECT_EQ(r.format, ReportFormat::kUnknown);
    EXPECT_FALSE(r.first_line.empty());
  }
}

TEST(ParseZoomReport, DayFirstDatesWhenTheFileSaysSo) {
  // 13/07 can only be day-first: the whole file is read day-first (a spreadsheet re-save).
  ParsedReport r = ParseZoomReport(
      "User Email,Join Time,Leave Time\n"
      "a@x.org,09/07/2020 08:00,09/07/2020 09:00\n"
      "b@x.org,13/07/2020 08:00,13/07/2020 08:30\n");
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0].join_micros, At(k2020Jul09, 8, 0));
  EXPECT_EQ(r.time_format, "DD/MM/YYYY HH:mm");
  // Nothing over 12: the reading that puts the times at the event wins.
  ReportOptions july9{TimeZone::Utc(), At(k2020Jul09, 8, 0), At(k2020Jul09, 9, 40)};
  ParsedReport ambiguous = ParseZoomReport(
      "User Email,Join Time,Leave Time\na@x.org,09.07.2020 08:00,09.07.2020 09:00\n", july9);
  ASSERT_EQ(ambiguous.rows.size(), 1u);
  EXPECT_EQ(ambiguous.rows[0].join_micros, At(k2020Jul09, 8, 0));
  EXPECT_EQ(ambiguous.time_format, "DD.MM.YYYY HH:mm");
  ParsedReport us = ParseZoomReport(
      "User Email,Join Time,Leave Time\na@x.org,07/09/2020 08:00 AM,07/09/2020 09:00 AM\n", july9);
  EXPECT_EQ(us.rows[0].join_micros, At(k2020Jul09, 8, 0));
  EXPECT_EQ(us.time_format, "MM/DD/YYYY hh:mm AM/PM");
}

TEST(ParseZoomReport, WebinarTimeFormatsAndBoms) {
  ParsedReport r = ParseZoomReport(
      "\xEF\xBB\xBF\xEF\xBB\xBF"  // one export seen with two
      "Attendee Details,\r\n"
      "Attended,Email,Join Time,Leave Time,Time in Session (minutes)\r\n"
      "Yes,a@x.org,\"Jul 9, 2020 8:00 AM\",\"Jul 9, 2020 9:40 AM\",100\r\n"
      "Yes,b@x.org,\"July 09, 2020 08:00:00\",\"Sept 9, 2020 09:00:00\",60\r\n");
  ASSERT_TRUE(r.error.empty()) << r.error;
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0].join_micros, At(k2020Jul09, 8, 0));
  EXPECT_EQ(r.rows[0].leave_micros, At(k2020Jul09, 9, 40));
  EXPECT_EQ(r.rows[1].join_micros, At(k2020Jul09, 8, 0));
  EXPECT_EQ(r.time_format, "Mon D, YYYY hh:mm AM/PM");
}

TEST(MinutesInSlot, TheIssuesCasesCountedByHand) {
  const int64_t s = At(k2020Jul09, 8, 0), e = At(k2020Jul09, 9, 40);
  // 08:00-08:30, 08:20-09:00, 09:10-09:25: 75.
  EXPECT_EQ(MinutesByEmail({Row("a@x.org", At(k2020Jul09, 8, 0), At(k2020Jul09, 8, 30)),
                            Row("a@x.org", At(k2020Jul09, 8, 20), At(k2020Jul09, 9, 0)),
                            Row("a@x.org", At(k2020Jul09, 9, 10), At(k2020Jul09, 9, 25))},
                           s, e),
            (std::map<std::string, int>{{"a@x.org", 75}}));
  // 00:00-23:00 the same day: the slot, 100.
  EXPECT_EQ(MinutesByEmail({Row("a@x.org", At(k2020Jul09, 0, 0), At(k2020Jul09, 23, 0))}, s, e),
            (std::map<std::string, int>{{"a@x.org", 100}}));
  // Decades: still the slot.
  EXPECT_EQ(MinutesByEmail({Row("a@x.org", At(k2000Feb29, 0, 0), At(k2021Jan01, 0, 0))}, s, e),
            (std::map<std::string, int>{{"a@x.org", 100}}));
  // Another day: 0, and reported.
  ParsedReport r;
  r.rows = {Row("a@x.org", At(k2020Jul10, 8, 0), At(k2020Jul10, 9, 0)),
            Row("a@x.org", At(k2020Jul09, 9, 40), At(k2020Jul09, 9, 50))};  // right after
  Attendance a = MinutesInSlot(r, s, e);
  EXPECT_EQ(a.minutes_by_email.at("a@x.org"), 0);
  EXPECT_EQ(a.out_of_slot.size(), 2u);
}

}  // namespace
}  // namespace ecd::registration
