#include "services/notifications/render.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace ecd::notifications {
namespace {

namespace fs = std::filesystem;

int64_t Micros(int y, unsigned m, unsigned d, int hour, int minute) {
  using namespace std::chrono;
  const sys_days date{year{y} / month{m} / day{d}};
  return duration_cast<microseconds>((date + hours{hour} + minutes{minute}).time_since_epoch())
      .count();
}

const std::map<std::string, std::string> kTitles = {
    {"en", "Webinar with the countries of Africa (English)"},
    {"fr", "Webinaire avec les pays d'Afrique (français)"},
    {"es", "Seminario web con los países de América Latina y el Caribe (español)"},
};
const std::map<std::string, std::string> kSignatures = {
    {"en", "EU Cyber Direct and the Council of Europe"},
    {"fr", "EU Cyber Direct et le Conseil de l'Europe"},
    {"es", "EU Cyber Direct y el Consejo de Europa"},
};
const std::map<std::string, std::string> kCalendarLines = {
    {"en", "calendar invitation"},
    {"fr", "pour votre agenda"},
    {"es", "la invitación"},
};
const std::map<std::string, std::string> kReasonLabels = {
    {"en", "Reason: "}, {"fr", "Motif : "}, {"es", "Motivo: "}};

MessageContext FullContext(const std::string& language) {
  MessageContext c;
  c.language = language;
  c.given_name = "Zoë";
  c.family_name = "Ñúñez-Çelik";
  c.event_title = kTitles.at(language);
  c.start_micros = Micros(2020, 7, 9, 8, 0);
  c.end_micros = Micros(2020, 7, 9, 9, 45);
  c.time_zone = "Africa/Lagos";
  c.platform = "Zoom";
  c.join_url = "https://zoom.us/j/123456789?pwd=abc&x=1";
  c.waitlist_position = 3;
  c.registration = "registrations/8f14e45f-ceea-467f-a0e6-1b7a3c0e9d21";
  c.reason = "Le quota de votre pays est atteint";
  c.attached_materials = {{"Fact sheet", "fiche-été.pdf", ""}};
  c.linked_materials = {{"Bibliography", "", "https://example.org/bibliography.pdf"},
                        {"Slides", "", ""}};
  c.recording_url = "https://example.org/recordings/africa-fr";
  c.announcement = "The agenda has a new segment on e-evidence.\nPlease read the fact sheet.";
  c.certificate_serial = "ECD-2020-000123";
  c.certificate_verification_code = "K7QF-2M9X-PL4D";
  c.certificate_file = "certificate-ECD-2020-000123.pdf";
  c.status = 1;
  c.code = "482913";
  c.verify_url = "https://events.example.org/verify/8f14e45f?code=482913";
  c.manage_url = "https://events.example.org/manage/8f14e45f?key=k3y-Secret_1";
  c.hold_expire_micros = Micros(2020, 7, 1, 23, 30);
  c.previous_holder = "Awa Diop";
  return c;
}

// "Your registration is confirmed", as each language says it.
const std::map<std::string, std::string> kConfirmedWords = {
    {"en", "Your registration is confirmed."},
    {"fr", "Votre inscription est confirmée."},
    {"es", "Su inscripción está confirmada."}};

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// What each kind must show when the context has it.
std::vector<std::string> ExpectedValues(const std::string& kind, const MessageContext& c) {
  if (kind == "confirmed" || kind == "approved" || kind == "promoted" || kind == "reminder_24h" ||
      kind == "reminder_1h" || kind == "event_changed") {
    return {c.join_url, c.platform};
  }
  if (kind == "waitlisted") return {std::to_string(c.waitlist_position)};
  if (kind == "rejected") return {c.reason};
  if (kind == "info_kit" || kind == "info_kit_update") {
    return {"* Fact sheet (fiche-été.pdf)\n", "* Bibliography",
            "https://example.org/bibliography.pdf\n", "* Slides ("};
  }
  if (kind == "recording_published") return {c.recording_url};
  if (kind == "announcement") return {c.announcement};
  if (kind == "certificate_issued") {
    return {c.certificate_serial, c.certificate_verification_code, c.certificate_file};
  }
  const std::string hold = FormatInstant(c.hold_expire_micros, c.time_zone, c.language);
  // The code on its own (the link carries it too).
  if (kind == "verify_email") return {" " + c.code + "\n", c.verify_url, hold};
  if (kind == "handover_verify") {
    return {" " + c.code + "\n", c.verify_url, hold, c.previous_holder};
  }
  if (kind == "already_registered" || kind == "participant_key" || kind == "handed_over_to_you") {
    return {c.manage_url, kConfirmedWords.at(c.language)};
  }
  if (kind == "handover_requested") return {hold};
  return {};
}

// Kinds that show the participant's link when the change carried their key.
bool ShowsManageLink(const std::string& kind) {
  return kind == "confirmed" || kind == "waitlisted" || kind == "pending_approval" ||
         kind == "already_registered" || kind == "participant_key" || kind == "handed_over_to_you";
}

// Kinds whose text presents the invitation (cancellations present a calendar update instead).
bool AttachesCalendar(const std::string& kind) {
  return kind == "confirmed" || kind == "approved" || kind == "promoted" ||
         kind == "reminder_24h" || kind == "event_changed";
}

TEST(TemplatesTest, KindsAndLanguages) {
  EXPECT_EQ(Templates::Kinds().size(), 25u);
  EXPECT_EQ(Templates::Languages(), (std::vector<std::string>{"en", "fr", "es"}));
}

TEST(TemplatesTest, EmbeddedTemplatesAreComplete) {
  const auto templates = Templates::Load();
  ASSERT_TRUE(templates.ok()) << templates.status().ToString();
}

TEST(TemplatesTest, EveryKindRendersInEveryLanguage) {
  const auto templates = Templates::Load();
  ASSERT_TRUE(templates.ok()) << templates.status().ToString();
  for (const auto& language : Templates::Languages()) {
    for (const auto& kind : Templates::Kinds()) {
      SCOPED_TRACE(language + "/" + kind);
      const MessageContext c = FullContext(language);
      const auto message = templates->Render(kind, c);
      ASSERT_TRUE(message.ok()) << message.status().ToString();
      const std::string& subject = message->subject;
      const std::string& text = message->text;

      for (const std::string* part : {&subject, &text}) {
        EXPECT_FALSE(Has(*part, "{{")) << *part;
        EXPECT_FALSE(Has(*part, "}}")) << *part;
      }
      EXPECT_TRUE(Has(subject, c.event_title)) << subject;
      EXPECT_FALSE(Has(subject, "\n"));
      EXPECT_TRUE(Has(text, c.event_title)) << text;
      EXPECT_TRUE(Has(text, FormatSlot(c.start_micros, c.end_micros, c.time_zone, language)))
          << text;
      EXPECT_TRUE(Has(text, "(09:00-10:45 Africa/Lagos)")) << text;
      EXPECT_TRUE(Has(text, "Zoë Ñúñez-Çelik")) << text;
      EXPECT_TRUE(Has(text, kSignatures.at(language))) << text;
      for (const auto& value : ExpectedValues(kind, c)) {
        EXPECT_TRUE(Has(text, value)) << "missing \"" << value << "\" in\n" << text;
      }
      EXPECT_EQ(Has(text, kCalendarLines.at(language)), AttachesCalendar(kind)) << text;
      EXPECT_EQ(Has(text, kReasonLabels.at(language)), kind == "rejected") << text;
      EXPECT_EQ(Has(text, c.manage_url), ShowsManageLink(kind)) << text;
      EXPECT_EQ(Has(text, c.code), kind == "verify_email" || kind == "handover_verify") << text;

      // An empty placeholder at the end of a line leaves a trailing blank; a section that did not
      // close cleanly leaves two blank lines in a row.
      EXPECT_FALSE(Has(text, " \n")) << text;
      EXPECT_FALSE(Has(text, "\n\n\n")) << text;
      ASSERT_FALSE(text.empty());
      EXPECT_EQ(text.back(), '\n');
    }
  }
}

TEST(TemplatesTest, ReasonOnlyWhenGiven) {
  const auto templates = Templates::Load();
  ASSERT_TRUE(templates.ok());
  for (const auto& language : Templates::Languages()) {
    SCOPED_TRACE(language);
    MessageContext c = FullContext(language);
    c.reason = "";
    auto message = templates->Render("rejected", c);
    ASSERT_TRUE(message.ok());
    EXPECT_FALSE(Has(message->text, kReasonLabels.at(language))) << message->text;
    EXPECT_FALSE(Has(message->text, "\n\n\n")) << message->text;

    c.reason = "Seules les autorités invitées peuvent s'inscrire.";
    message = templates->Render("rejected", c);
    ASSERT_TRUE(message.ok());
    EXPECT_TRUE(Has(message->text, kReasonLabels.at(language) + c.reason)) << message->text;
  }
}

// Templates are compiled once per thread and rendered many times: nothing of one message may
// stay behind for the next, whatever the order, and threads render alike at the same time.
TEST(TemplatesTest, CompiledTemplatesKeepNothingBetweenMessages) {
  const auto templates = Templates::Load();
  ASSERT_TRUE(templates.ok());
  auto sparse = [](const std::string& language) {
    MessageContext c = FullContext(language);
    c.reason = "";
    c.attached_materials.clear();
    c.linked_materials.clear();
    c.waitlist_position = 0;
    c.join_url = "";
    c.given_name = "Nguyễn";
    c.family_name = "Thị Minh Khai";
    return c;
  };
  std::map<std::string, RenderedMessage> first;
  for (const auto& language : Templates::Languages()) {
    for (const auto& kind : Templates::Kinds()) {
      auto full = templates->Render(kind, FullContext(language));
      ASSERT_TRUE(full.ok());
      first[language + "/" + kind] = *full;
    }
  }
  for (const auto& language : Templates::Languages()) {
    for (const auto& kind : Templates::Kinds()) {
      SCOPED_TRACE(language + "/" + kind);
      auto other = templates->Render(kind, sparse(language));
      ASSERT_TRUE(other.ok());
      EXPECT_TRUE(Has(other->text, "Nguyễn") || !Has(first[language + "/" + kind].text, "Zoë"));
      auto again = templates->Render(kind, FullContext(language));
      ASSERT_TRUE(again.ok());
      EXPECT_EQ(again->subject, first[language + "/" + kind].subject);
      EXPECT_EQ(again->text, first[language + "/" + kind].text);
    }
  }
  std::vector<std::thread> threads;
  std::atomic<int> differences{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int round = 0; round < 3; ++round) {
        for (const auto& [key, expected] : first) {
          const auto slash = key.find('/');
          auto m = templates->Render(key.substr(slash + 1), FullContext(key.substr(0, slash)));
          if (!m.ok() || m->text != expected.text || m->subject != expected.subject) ++differences;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(differences.load(), 0);
}

TEST(TemplatesTest, OptionalValuesLeaveNoGaps) {
  const auto templates = Templates::Load();
  ASSERT_TRUE(templates.ok());
  for (const auto& language : Templates::Languages()) {
    SCOPED_TRACE(language);
    MessageContext c = FullContext(language);
    c.join_url = "";
    c.platform = "";
    c.waitlist_position = 0;
    c.attached_materials.clear();
    c.linked_materials.clear();
    c.certificate_file.clear();
    c.given_name = "";
    c.family_name = "";
    c.status = 0;
    c.code.clear();
    c.verify_url.clear();
    c.manage_url.clear();
    c.hold_expire_micros = 0;
    c.previous_holder.clear();
    for (const auto& kind : Templates::Kinds()) {
      SCOPED_TRACE(kind);
      const auto message = templates->Render(kind, c);
      ASSERT_TRUE(message.ok());
      EXPECT_FALSE(Has(message->text, "Zoom")) << message->text;
      EXPECT_FALSE(Has(message->text, " \n")) << message->text;
      EXPECT_FALSE(Has(message->text, "\n\n\n")) << message->text;
      EXPECT_FALSE(Has(message->text, " ,")) << message->text;
    }
    const auto waitlisted = templates->Render("waitlisted", c);
    ASSERT_TRUE(waitlisted.ok());
    EXPECT_FALSE(Has(waitlisted->text, "position")) << waitlisted->text;
    EXPECT_FALSE(Has(waitlisted->text, "posición")) << waitlisted->text;
  }
  MessageContext c = FullContext("en");
  c.given_name = "";
  c.family_name = "";
  c.join_url = "";
  const auto confirmed = templates->Render("confirmed", c);
  ASSERT_TRUE(confirmed.ok());
  EXPECT_EQ(confirmed->text.rfind("Dear participant,\n", 0), 0u) << confirmed->text;
  EXPECT_TRUE(Has(confirmed->text, "The link to join will be sent to you before the webinar."));
}

// A key without a link to carry it is shown with the registration's name; no key, no block.
TEST(TemplatesTest, ManageLinkOrKeyOnlyWithAKey) {
  const auto templates = Templates::Load();
  ASSERT_TRUE(templates.ok());
  for (const auto& language : Templates::Languages()) {
    for (const std::string kind : {"confirmed", "waitlisted", "pending_approval",
                                   "already_registered", "participant_key", "handed_over_to_you"}) {
      SCOPED_TRACE(language + "/" + kind);
      MessageContext c = FullContext(language);
      c.manage_url.clear();
      c.participant_key = "k3y-Secret_1";
      auto with_key = templates->Render(kind, c);
      ASSERT_TRUE(with_key.ok());
      EXPECT_TRUE(Has(with_key->text, "\nk3y-Secret_1\n")) << with_key->text;
      EXPECT_TRUE(Has(with_key->text, c.registration)) << with_key->text;
      EXPECT_FALSE(Has(with_key->text, "\n\n\n")) << with_key->text;
      c.participant_key.clear();
      auto without = templates->Render(kind, c);
      ASSERT_TRUE(without.ok());
      EXPECT_FALSE(Has(without->text, c.registration)) << without->text;
      EXPECT_FALSE(Has(without->text, "\n\n\n")) << without->text;
    }
  }
}

// Where the new holder stands, and the join details and the invitation only with a seat.
TEST(TemplatesTest, HandedOverToYouSaysWhatTheMessageCarries) {
  const auto templates = Templates::Load();
  ASSERT_TRUE(templates.ok());
  for (const auto& language : Templates::Languages()) {
    SCOPED_TRACE(language);
    MessageContext c = FullContext(language);
    c.invitation = true;
    auto seat = templates->Render("handed_over_to_you", c);
    ASSERT_TRUE(seat.ok());
    EXPECT_TRUE(Has(seat->text, c.join_url)) << seat->text;
    EXPECT_TRUE(Has(seat->text, kCalendarLines.at(language))) << seat->text;
    c.invitation = false;
    c.status = 3;
    c.waitlist_position = 2;
    auto waiting = templates->Render("handed_over_to_you", c);
    ASSERT_TRUE(waiting.ok());
    EXPECT_FALSE(Has(waiting->text, c.join_url)) << waiting->text;
    EXPECT_FALSE(Has(waiting->text, kCalendarLines.at(language))) << waiting->text;
    EXPECT_TRUE(Has(waiting->text, StatusWords(3, 2, language))) << waiting->text;
    EXPECT_TRUE(Has(waiting->text, "2")) << waiting->text;
  }
}

TEST(StatusWordsTest, EveryStatusInEveryLanguage) {
  for (const auto& language : Templates::Languages()) {
    for (int status = 1; status <= 7; ++status) {
      EXPECT_FALSE(StatusWords(status, 0, language).empty()) << language << " " << status;
    }
    EXPECT_EQ(StatusWords(0, 0, language), "");
    EXPECT_EQ(StatusWords(8, 0, language), "");
  }
  EXPECT_EQ(StatusWords(3, 4, "en"), "on your country's waiting list, at position 4");
  EXPECT_EQ(StatusWords(3, 0, "fr"), "sur la liste d'attente de votre pays");
  EXPECT_EQ(StatusWords(1, 0, "es"), "confirmada");
}

TEST(FormatInstantTest, UtcAndLocal) {
  EXPECT_EQ(FormatInstant(Micros(2020, 7, 7, 8, 30), "Africa/Lagos", "en"),
            "Tuesday 7 July 2020, 08:30 UTC (09:30 Africa/Lagos)");
  EXPECT_EQ(FormatInstant(Micros(2020, 7, 20, 15, 5), "Pacific/Auckland", "fr"),
            "lundi 20 juillet 2020, 15:05 UTC (mardi 21 juillet 2020, 03:05 Pacific/Auckland)");
  EXPECT_EQ(FormatInstant(Micros(2020, 7, 22, 2, 0), "America/Mexico_City", "es"),
            "miércoles 22 de julio de 2020, 02:00 UTC (martes 21 de julio de 2020, 21:00 "
            "America/Mexico_City)");
  EXPECT_EQ(FormatInstant(Micros(2020, 8, 1, 0, 0), "UTC", "fr"),
            "samedi 1er août 2020, 00:00 UTC");
  EXPECT_EQ(FormatInstant(Micros(2020, 8, 1, 0, 0), "Mars/Olympus_Mons", "en"),
            "Saturday 1 August 2020, 00:00 UTC");
}

TEST(TemplatesTest, PlainTextIsNotEscaped) {
  const auto templates = Templates::Load();
  ASSERT_TRUE(templates.ok());
  MessageContext c = FullContext("en");
  c.event_title = "Law & \"Order\" <2020>";
  const auto message = templates->Render("confirmed", c);
  ASSERT_TRUE(message.ok());
  EXPECT_TRUE(Has(message->subject, c.event_title)) << message->subject;
  EXPECT_TRUE(Has(message->text, c.event_title)) << message->text;
  EXPECT_TRUE(Has(message->text, "https://zoom.us/j/123456789?pwd=abc&x=1")) << message->text;
  EXPECT_FALSE(Has(message->text, "&amp;"));
}

TEST(TemplatesTest, SubjectIsOneLine) {
  const auto templates = Templates::Load();
  ASSERT_TRUE(templates.ok());
  MessageContext c = FullContext("fr");
  c.event_title = "Titre\r\nBcc: someone@example.org";
  const auto message = templates->Render("confirmed", c);
  ASSERT_TRUE(message.ok());
  EXPECT_EQ(message->subject, "Inscription confirmée : Titre Bcc: someone@example.org");
}

TEST(TemplatesTest, RefusesUnknownKindOrLanguage) {
  const auto templates = Templates::Load();
  ASSERT_TRUE(templates.ok());
  const auto kind = templates->Render("birthday", FullContext("en"));
  ASSERT_FALSE(kind.ok());
  EXPECT_EQ(kind.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(kind.status().field(), "kind");

  MessageContext c = FullContext("en");
  for (const std::string language : {"de", "", "EN"}) {
    c.language = language;
    const auto message = templates->Render("confirmed", c);
    ASSERT_FALSE(message.ok());
    EXPECT_EQ(message.status().code(), Code::kInvalidArgument);
    EXPECT_EQ(message.status().field(), "language");
  }
}

// A private copy of the source templates, removed at the end.
class TemplatesDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "ecd-templates-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    fs::copy(ECD_TEMPLATES_SOURCE_DIR, dir_, fs::copy_options::recursive);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void Write(const std::string& key, const std::string& text) {
    std::ofstream out(dir_ / key, std::ios::binary | std::ios::trunc);
    out << text;
  }
  fs::path dir_;
};

TEST_F(TemplatesDirTest, LoadsFromDisk) {
  Write("es/confirmed.subject", "Confirmado: {{event_title}}\r\n");
  const auto templates = Templates::Load(dir_.string());
  ASSERT_TRUE(templates.ok()) << templates.status().ToString();
  const auto message = templates->Render("confirmed", FullContext("es"));
  ASSERT_TRUE(message.ok());
  EXPECT_EQ(message->subject, "Confirmado: " + kTitles.at("es"));
}

// Two sets of templates used by turns on one thread: each renders its own text.
TEST_F(TemplatesDirTest, TwoSetsOfTemplatesOnOneThreadEachRenderTheirOwn) {
  const auto embedded = Templates::Load();
  ASSERT_TRUE(embedded.ok());
  Write("es/confirmed.subject", "Plaza confirmada — {{event_title}}\n");
  const auto edited = Templates::Load(dir_.string());
  ASSERT_TRUE(edited.ok()) << edited.status().ToString();
  for (int round = 0; round < 2; ++round) {
    const auto a = embedded->Render("confirmed", FullContext("es"));
    const auto b = edited->Render("confirmed", FullContext("es"));
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(b->subject, "Plaza confirmada — " + kTitles.at("es"));
    EXPECT_NE(a->subject, b->subject);
  }
}

TEST_F(TemplatesDirTest, EmbeddedTemplatesMatchTheSources) {
  const auto embedded = Templates::Load();
  const auto sources = Templates::Load(dir_.string());
  ASSERT_TRUE(embedded.ok());
  ASSERT_TRUE(sources.ok());
  for (const auto& language : Templates::Languages()) {
    for (const auto& kind : Templates::Kinds()) {
      const auto a = embedded->Render(kind, FullContext(language));
      const auto b = sources->Render(kind, FullContext(language));
      ASSERT_TRUE(a.ok() && b.ok());
      EXPECT_EQ(a->subject, b->subject) << language << "/" << kind;
      EXPECT_EQ(a->text, b->text) << language << "/" << kind;
    }
  }
}

TEST_F(TemplatesDirTest, ReportsAKindMissingInOneLanguage) {
  fs::remove(dir_ / "fr" / "rejected.txt");
  const auto templates = Templates::Load(dir_.string());
  ASSERT_FALSE(templates.ok());
  EXPECT_EQ(templates.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(templates.status().reason(), "TEMPLATES_MISSING");
  EXPECT_TRUE(Has(templates.status().message(), "fr/rejected.txt")) << templates.status().message();
  EXPECT_FALSE(Has(templates.status().message(), "en/rejected.txt"));
  EXPECT_FALSE(Has(templates.status().message(), "fr/rejected.subject"));
}

TEST_F(TemplatesDirTest, ReportsABrokenTemplate) {
  Write("en/info_kit.txt", "{{#materials}}\n* {{title}}\n");
  const auto templates = Templates::Load(dir_.string());
  ASSERT_FALSE(templates.ok());
  EXPECT_EQ(templates.status().code(), Code::kFailedPrecondition);
  EXPECT_TRUE(Has(templates.status().message(), "en/info_kit.txt")) << templates.status().message();
}

TEST_F(TemplatesDirTest, ReportsAMissingDirectory) {
  const auto templates = Templates::Load((dir_ / "nowhere").string());
  ASSERT_FALSE(templates.ok());
  EXPECT_EQ(templates.status().code(), Code::kFailedPrecondition);
}

TEST(FormatSlotTest, FrenchInLagos) {
  EXPECT_EQ(FormatSlot(Micros(2020, 7, 9, 8, 0), Micros(2020, 7, 9, 9, 45), "Africa/Lagos", "fr"),
            "jeudi 9 juillet 2020, 08:00-09:45 UTC (09:00-10:45 Africa/Lagos)");
}

TEST(FormatSlotTest, EnglishInLagos) {
  EXPECT_EQ(FormatSlot(Micros(2020, 7, 7, 8, 0), Micros(2020, 7, 7, 9, 45), "Africa/Lagos", "en"),
            "Tuesday 7 July 2020, 08:00-09:45 UTC (09:00-10:45 Africa/Lagos)");
}

TEST(FormatSlotTest, SpanishInMexicoCity) {
  // Mexico City kept daylight saving time until 2022: UTC-5 in July 2020.
  EXPECT_EQ(
      FormatSlot(Micros(2020, 7, 9, 8, 0), Micros(2020, 7, 9, 9, 45), "America/Mexico_City", "es"),
      "jueves 9 de julio de 2020, 08:00-09:45 UTC (03:00-04:45 America/Mexico_City)");
}

TEST(FormatSlotTest, EnglishInAuckland) {
  // UTC+12: the slot of 9 July stays on 9 July in Auckland...
  EXPECT_EQ(
      FormatSlot(Micros(2020, 7, 9, 8, 0), Micros(2020, 7, 9, 9, 45), "Pacific/Auckland", "en"),
      "Thursday 9 July 2020, 08:00-09:45 UTC (20:00-21:45 Pacific/Auckland)");
  // ...while the afternoon slot of 20 July is already the next morning there.
  EXPECT_EQ(
      FormatSlot(Micros(2020, 7, 20, 15, 0), Micros(2020, 7, 20, 16, 45), "Pacific/Auckland", "en"),
      "Monday 20 July 2020, 15:00-16:45 UTC "
      "(Tuesday 21 July 2020, 03:00-04:45 Pacific/Auckland)");
}

TEST(FormatSlotTest, LocalDateInEachLanguage) {
  const int64_t start = Micros(2020, 7, 20, 15, 0);
  const int64_t end = Micros(2020, 7, 20, 16, 45);
  EXPECT_EQ(FormatSlot(start, end, "Pacific/Auckland", "fr"),
            "lundi 20 juillet 2020, 15:00-16:45 UTC (mardi 21 juillet 2020, 03:00-04:45 "
            "Pacific/Auckland)");
  EXPECT_EQ(FormatSlot(start, end, "Pacific/Auckland", "es"),
            "lunes 20 de julio de 2020, 15:00-16:45 UTC (martes 21 de julio de 2020, 03:00-04:45 "
            "Pacific/Auckland)");
}

TEST(FormatSlotTest, UnknownOrEmptyZoneShowsUtcOnly) {
  const int64_t start = Micros(2020, 7, 9, 8, 0);
  const int64_t end = Micros(2020, 7, 9, 9, 45);
  for (const std::string zone : {"Mars/Olympus_Mons", "", "UTC", "Etc/UTC", "../../etc/passwd"}) {
    EXPECT_EQ(FormatSlot(start, end, zone, "en"), "Thursday 9 July 2020, 08:00-09:45 UTC") << zone;
  }
}

TEST(FormatSlotTest, FirstOfTheMonthAndAccents) {
  EXPECT_EQ(FormatSlot(Micros(2020, 8, 1, 8, 0), Micros(2020, 8, 1, 9, 45), "", "fr"),
            "samedi 1er août 2020, 08:00-09:45 UTC");
  EXPECT_EQ(FormatSlot(Micros(2020, 7, 22, 15, 0), Micros(2020, 7, 22, 16, 45), "", "es"),
            "miércoles 22 de julio de 2020, 15:00-16:45 UTC");
}

TEST(FormatSlotTest, RangeAcrossMidnight) {
  EXPECT_EQ(
      FormatSlot(Micros(2020, 7, 20, 23, 30), Micros(2020, 7, 21, 1, 15), "Europe/Paris", "en"),
      "Monday 20 July 2020, 23:30 - Tuesday 21 July 2020, 01:15 UTC "
      "(Tuesday 21 July 2020, 01:30-03:15 Europe/Paris)");
}

}  // namespace
}  // namespace ecd::notifications
