// Notifier's message planning through a fake catalogue: which message a participant gets, in
// their language and time zone, with or without an invitation, an information kit planned from
// the event's materials, and the catalogue's failures passed on. The store is never touched
// (its pool points nowhere): composing needs no database.
#include <gtest/gtest.h>

#include <map>

#include "common/page_token.hpp"
#include "common/pg.hpp"
#include "common/time.hpp"
#include "services/notifications/notifier.hpp"

namespace ecd::notifications {
namespace {

namespace cat = ::ecd::catalogue::v1;

class FakeCatalogue final : public CatalogueReader {
 public:
  std::map<std::string, cat::Event> events;
  std::map<std::string, std::vector<cat::Material>> materials;
  Status down = Status::Ok();
  int calls = 0;

  StatusOr<cat::Event> GetEvent(const std::string& id) override {
    ++calls;
    if (!down.ok()) return down;
    auto it = events.find(id);
    if (it == events.end()) return Status::NotFound("events/" + id);
    return it->second;
  }
  StatusOr<cat::Series> GetSeries(const std::string& id) override {
    ++calls;
    return Status::NotFound("series/" + id);
  }
  StatusOr<std::vector<cat::Material>> ListMaterials(const std::string& id) override {
    ++calls;
    if (!down.ok()) return down;
    return materials[id];
  }
  StatusOr<std::vector<cat::Event>> EventsOfSeries(const std::string&) override {
    ++calls;
    return std::vector<cat::Event>();
  }
};

constexpr char kEvent[] = "5eed0000-0000-4000-8000-000000000041";

class Compose : public ::testing::Test {
 protected:
  Compose()
      : pool_({"postgresql://postgres@127.0.0.1:1/nowhere", 1, std::chrono::milliseconds(10),
               std::chrono::milliseconds(10)}),
        store_(pool_),
        templates_(*Templates::Load()),
        tokens_("compose-test-secret"),
        materials_(catalogue_, CatalogueClient::Options{}, KitOptions{0, ""}),
        notifier_(store_, catalogue_, materials_, templates_, tokens_, NotifierOptions{}) {
    cat::Event e;
    e.set_name(std::string("events/") + kEvent);
    e.set_title("Cybercriminalité et justice pénale : l'Afrique de l'Ouest");
    e.set_language_code("fr");
    e.set_status(cat::EVENT_STATUS_PUBLISHED);
    e.set_join_url("https://zoom.us/j/987654321");
    e.set_platform("Zoom");
    // 3 March 2026, 08:00 to 09:45 UTC.
    SetMicros(1'772'524'800'000'000LL, e.mutable_start_time());
    SetMicros(1'772'531'100'000'000LL, e.mutable_end_time());
    catalogue_.events[kEvent] = e;
  }

  Participant Person(const std::string& language, const std::string& zone, int status = 1) {
    Participant p;
    p.registration_id = "5eed0000-0000-4000-8000-0000000000a1";
    p.event_id = kEvent;
    p.status = status;
    p.email = "aminata.diallo@justice.sn";
    p.given_name = "Aminata";
    p.family_name = "Diallo";
    p.language = language;
    p.time_zone = zone;
    return p;
  }

  FakeCatalogue catalogue_;
  PgPool pool_;
  Store store_;
  Templates templates_;
  PageTokens tokens_;
  MaterialSource materials_;
  Notifier notifier_;
};

TEST_F(Compose, AConfirmationIsInTheParticipantsLanguageAndZoneWithAnInvitation) {
  ComposeExtras extras;
  extras.secret = "participant-key-of-aminata";
  auto m = notifier_.Compose("confirmed", Person("fr", "Africa/Dakar"), "ev1:confirmed", extras);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->kind, "confirmed");
  EXPECT_EQ(m->language, "fr");
  EXPECT_EQ(m->recipient, "aminata.diallo@justice.sn");
  EXPECT_EQ(m->recipient_name, "Aminata Diallo");
  EXPECT_EQ(m->event_id, kEvent);
  EXPECT_EQ(m->dedupe_key, "ev1:confirmed");
  EXPECT_NE(m->body.find("Cybercriminalité et justice pénale"), std::string::npos) << m->body;
  EXPECT_NE(m->body.find("participant-key-of-aminata"), std::string::npos) << m->body;
  EXPECT_NE(m->body.find("mars 2026"), std::string::npos) << m->body;  // French dates
  EXPECT_NE(m->icalendar.find("DTSTART:20260303T080000Z"), std::string::npos) << m->icalendar;
  EXPECT_NE(m->icalendar.find("https://zoom.us/j/987654321"), std::string::npos);
  EXPECT_EQ(catalogue_.calls, 1);

  // The same change for a participant in Spanish, in Mexico City: 02:00 local time.
  auto es = notifier_.Compose("confirmed", Person("es", "America/Mexico_City"), "ev2", extras);
  ASSERT_TRUE(es.ok());
  EXPECT_EQ(es->language, "es");
  EXPECT_NE(es->body.find("marzo de 2026"), std::string::npos) << es->body;
  EXPECT_NE(es->body.find("02:00"), std::string::npos) << es->body;
  EXPECT_NE(es->subject, m->subject);
}

TEST_F(Compose, AWaitingListPlaceGivesThePositionAndNoInvitation) {
  ComposeExtras extras;
  extras.waitlist_position = 3;
  auto m = notifier_.Compose("waitlisted", Person("en", "Africa/Lagos", 3), "ev3", extras);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE(m->icalendar.empty());
  EXPECT_NE(m->body.find('3'), std::string::npos) << m->body;
  EXPECT_EQ(m->body.find("https://zoom.us/j/987654321"), std::string::npos)
      << "no join link before a seat";
}

TEST_F(Compose, WithTheEventAtHandTheCatalogueIsNotAsked) {
  const cat::Event event = catalogue_.events[kEvent];
  for (int i = 0; i < 5; ++i) {
    auto m = notifier_.Compose(event, "reminder_24h", Person("fr", "Africa/Abidjan"),
                               "reminder:" + std::to_string(i));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
  }
  EXPECT_EQ(catalogue_.calls, 0);
}

TEST_F(Compose, TheKitLinksExternalMaterialsInTheirOrder) {
  for (const auto& [title, uri] : std::vector<std::pair<std::string, std::string>>{
           {"Convention de Budapest", "https://rm.coe.int/1680081561"},
           {"Fiche pays", "https://www.coe.int/fr/web/octopus/country-wiki"}}) {
    cat::Material m;
    m.set_name(std::string("events/") + kEvent + "/materials/" +
               (title[0] == 'C' ? "5eed0000-0000-4000-8000-0000000000b1"
                                : "5eed0000-0000-4000-8000-0000000000b2"));
    m.set_title(title);
    m.set_external_uri(uri);
    m.set_kind(cat::MATERIAL_KIND_FACT_SHEET);
    catalogue_.materials[kEvent].push_back(m);
  }
  auto kit = notifier_.Compose("info_kit", Person("fr", "Africa/Dakar"), "kit");
  ASSERT_TRUE(kit.ok()) << kit.status().ToString();
  // The two links, then the marker that says the kit itself went to this person.
  ASSERT_EQ(kit->kit_items.size(), 3u);
  EXPECT_FALSE(kit->kit_items[0].attached);
  EXPECT_EQ(kit->kit_items[1].version, "https://www.coe.int/fr/web/octopus/country-wiki");
  EXPECT_EQ(kit->kit_items[0].version, "https://rm.coe.int/1680081561");
  EXPECT_TRUE(kit->attachments.empty());
  const size_t first = kit->body.find("https://rm.coe.int/1680081561");
  const size_t second = kit->body.find("https://www.coe.int/fr/web/octopus/country-wiki");
  ASSERT_NE(first, std::string::npos) << kit->body;
  ASSERT_NE(second, std::string::npos) << kit->body;
  EXPECT_LT(first, second);
}

TEST_F(Compose, TheCataloguesFailuresArePassedOn) {
  auto unknown = notifier_.Compose(
      "confirmed",
      [&] {
        Participant p = Person("en", "UTC");
        p.event_id = "5eed0000-0000-4000-8000-0000000000ff";
        return p;
      }(),
      "x");
  EXPECT_EQ(unknown.status().code(), Code::kNotFound);
  catalogue_.down = Status::Unavailable("CATALOGUE_UNAVAILABLE", "the catalogue does not answer");
  auto down = notifier_.Compose("confirmed", Person("en", "UTC"), "y");
  EXPECT_EQ(down.status().code(), Code::kUnavailable);
  EXPECT_EQ(down.status().reason(), "CATALOGUE_UNAVAILABLE");
  auto kit = notifier_.Compose(catalogue_.events[kEvent], "info_kit", Person("en", "UTC"), "z");
  EXPECT_EQ(kit.status().code(), Code::kUnavailable) << "the kit's materials could not be listed";
}

}  // namespace
}  // namespace ecd::notifications
