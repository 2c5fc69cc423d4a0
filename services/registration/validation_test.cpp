#include "services/registration/validation.hpp"

#include <gtest/gtest.h>

#include <memory>

#include "common/time.hpp"
#include "services/registration/registration.hpp"

namespace ecd::registration {
namespace {

v1::RegisterRequest Valid() {
  v1::RegisterRequest r;
  r.set_event("events/5eed0000-0000-4000-8000-000000000012");
  r.set_request_id("frontend-42");
  auto* p = r.mutable_participant();
  p->set_given_name("Zoë");
  p->set_family_name("Ñúñez-Çelik");
  p->set_email("zoe@justice.example.org");
  p->set_country_code("NG");
  p->set_affiliation(v1::AFFILIATION_PROSECUTION_SERVICE);
  p->set_preferred_language("es");
  p->set_time_zone("America/Mexico_City");
  p->set_privacy_consent(true);
  return r;
}

void ExpectField(const std::function<void(v1::RegisterRequest&)>& mutate,
                 const std::string& field) {
  auto r = Valid();
  mutate(r);
  Status s = ValidateRegisterRequest(NormaliseRegisterRequest(r));
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << field;
  EXPECT_EQ(s.field(), field) << s.ToString();
}

TEST(ValidateRegister, ValidPasses) {
  Status s = ValidateRegisterRequest(NormaliseRegisterRequest(Valid()));
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST(ValidateRegister, EveryRule) {
  ExpectField([](auto& r) { r.set_event("events/1"); }, "event");
  ExpectField([](auto& r) { r.clear_request_id(); }, "request_id");
  ExpectField([](auto& r) { r.set_request_id(std::string(129, 'k')); }, "request_id");
  ExpectField([](auto& r) { r.set_request_id("a b"); }, "request_id");
  ExpectField([](auto& r) { r.mutable_participant()->clear_given_name(); },
              "participant.given_name");
  ExpectField([](auto& r) { r.mutable_participant()->set_family_name(std::string(101, 'x')); },
              "participant.family_name");
  ExpectField([](auto& r) { r.mutable_participant()->set_email("no-at-sign"); },
              "participant.email");
  ExpectField([](auto& r) { r.mutable_participant()->set_email("a@b"); }, "participant.email");
  ExpectField([](auto& r) { r.mutable_participant()->set_email("a b@c.org"); },
              "participant.email");
  ExpectField([](auto& r) { r.mutable_participant()->set_country_code("ng"); },
              "participant.country_code");
  ExpectField([](auto& r) { r.mutable_participant()->set_organisation(std::string(201, 'o')); },
              "participant.organisation");
  ExpectField(
      [](auto& r) { r.mutable_participant()->set_affiliation(v1::AFFILIATION_UNSPECIFIED); },
      "participant.affiliation");
  ExpectField(
      [](auto& r) { r.mutable_participant()->set_affiliation(static_cast<v1::Affiliation>(77)); },
      "participant.affiliation");
  ExpectField([](auto& r) { r.mutable_participant()->set_job_title("a\nb"); },
              "participant.job_title");
  ExpectField([](auto& r) { r.mutable_participant()->set_preferred_language("de"); },
              "participant.preferred_language");
  ExpectField([](auto& r) { r.mutable_participant()->set_time_zone("../../etc/passwd"); },
              "participant.time_zone");
  ExpectField([](auto& r) { r.mutable_participant()->set_time_zone("Mars/Olympus_Mons"); },
              "participant.time_zone");
  ExpectField([](auto& r) { r.mutable_participant()->set_privacy_consent(false); },
              "participant.privacy_consent");
}

TEST(ValidateRegister, TimeZonesCanonicalIanaNamesOnly) {
  for (const char* bad : {"Africa", "/etc/passwd", "", "posixrules", "Factory", "right/UTC"}) {
    ExpectField([&](auto& r) { r.mutable_participant()->set_time_zone(bad); },
                "participant.time_zone");
  }
  auto r = Valid();
  r.mutable_participant()->set_time_zone("Asia/Calcutta");  // what some browsers report
  EXPECT_EQ(NormaliseRegisterRequest(r).participant().time_zone(), "Asia/Kolkata");
}

TEST(ValidateRegister, NamesNormalisedAndCheckedByTheOneTextRule) {
  auto r = Valid();
  r.mutable_participant()->set_given_name("Zoe\xCC\x88");  // decomposed ë
  r.mutable_participant()->set_certificate_name("NAGY E\xCC\x81va");
  auto n = NormaliseRegisterRequest(r);
  EXPECT_EQ(n.participant().given_name(), "Zo\xC3\xAB");
  EXPECT_EQ(n.participant().certificate_name(), "NAGY \xC3\x89va");
  EXPECT_TRUE(ValidateRegisterRequest(n).ok());
  for (const std::string& bad : {std::string("   "), std::string("\xE2\x80\x8B"),
                                 std::string("\xE2\x80\xAEnimda"), std::string("A\0B", 3)}) {
    ExpectField([&](auto& r) { r.mutable_participant()->set_given_name(bad); },
                "participant.given_name");
    ExpectField([&](auto& r) { r.mutable_participant()->set_certificate_name(bad); },
                "participant.certificate_name");
  }
  ExpectField([](auto& r) { r.mutable_participant()->set_organisation("Visible\nHIDDEN"); },
              "participant.organisation");
}

TEST(ParticipantKeys, BoundToTheRegistrationAndItsHandOvers) {
  ParticipantKeys tokens("a-secret-of-sixteen+");
  std::string t = tokens.Mint("5eed0000-0000-4000-8000-000000000001");
  EXPECT_EQ(t, tokens.Mint("5eed0000-0000-4000-8000-000000000001")) << "stable for retries";
  EXPECT_TRUE(tokens.Check("5eed0000-0000-4000-8000-000000000001", 0, t));
  EXPECT_FALSE(tokens.Check("5eed0000-0000-4000-8000-000000000002", 0, t));
  EXPECT_FALSE(
      ParticipantKeys("another-secret-of-16").Check("5eed0000-0000-4000-8000-000000000001", 0, t));
  // A hand-over gives a new key; the previous holder's stops working.
  const std::string next = tokens.Mint("5eed0000-0000-4000-8000-000000000001", 1);
  EXPECT_NE(next, t);
  EXPECT_TRUE(tokens.Check("5eed0000-0000-4000-8000-000000000001", 1, next));
  EXPECT_FALSE(tokens.Check("5eed0000-0000-4000-8000-000000000001", 1, t));
  EXPECT_FALSE(tokens.Check("5eed0000-0000-4000-8000-000000000001", 0, t.substr(0, 20)));
}

catalogue::v1::Event OpenEvent(int64_t now) {
  catalogue::v1::Event e;
  e.set_name("events/5eed0000-0000-4000-8000-000000000012");
  e.set_status(catalogue::v1::EVENT_STATUS_PUBLISHED);
  SetMicros(now - 3'600'000'000LL, e.mutable_registration_open_time());
  SetMicros(now + 3'600'000'000LL, e.mutable_registration_close_time());
  SetMicros(now + 7'200'000'000LL, e.mutable_start_time());
  e.add_invited_countries("NG");
  e.add_invited_countries("SN");
  return e;
}

// The catalogue's answer as Register gets it (CatalogueReader::GetEventPtr).
Status Open(const StatusOr<catalogue::v1::Event>& e, int64_t now) {
  if (!e.ok()) return CheckRegistrationOpen(StatusOr<EventPtr>(e.status()), Valid(), now);
  return CheckRegistrationOpen(std::make_shared<const catalogue::v1::Event>(*e), Valid(), now);
}

TEST(CheckRegistrationOpen, EveryReason) {
  const int64_t now = 1'790'000'000'000'000LL;
  EXPECT_TRUE(Open(OpenEvent(now), now).ok());

  Status missing = Open(Status::NotFound("event"), now);
  EXPECT_EQ(missing.code(), Code::kNotFound);
  EXPECT_EQ(missing.reason(), "EVENT_NOT_FOUND");
  EXPECT_EQ(missing.field(), "event");
  // Any other failure of the catalogue passes through as it came.
  EXPECT_EQ(Open(Status::Unavailable("CATALOGUE_UNAVAILABLE", "down"), now).code(),
            Code::kUnavailable);

  auto draft = OpenEvent(now);
  draft.set_status(catalogue::v1::EVENT_STATUS_DRAFT);
  EXPECT_EQ(Open(draft, now).reason(), "EVENT_NOT_OPEN");
  auto cancelled = OpenEvent(now);
  cancelled.set_status(catalogue::v1::EVENT_STATUS_CANCELLED);
  EXPECT_EQ(Open(cancelled, now).reason(), "EVENT_NOT_OPEN");

  // The window: [open, close); without a close time it closes at the start.
  EXPECT_EQ(Open(OpenEvent(now), now - 3'600'000'001LL).reason(), "REGISTRATION_NOT_OPEN_YET");
  EXPECT_TRUE(Open(OpenEvent(now), now - 3'600'000'000LL).ok());
  EXPECT_EQ(Open(OpenEvent(now), now + 3'600'000'000LL).reason(), "REGISTRATION_CLOSED");
  auto no_close = OpenEvent(now);
  no_close.clear_registration_close_time();
  EXPECT_TRUE(Open(no_close, now + 3'600'000'000LL).ok());
  EXPECT_EQ(Open(no_close, now + 7'200'000'000LL).reason(), "REGISTRATION_CLOSED");
  auto no_open = OpenEvent(now);
  no_open.clear_registration_open_time();
  EXPECT_TRUE(Open(no_open, now - 86'400'000'000LL).ok());

  auto elsewhere = OpenEvent(now);
  elsewhere.clear_invited_countries();
  elsewhere.add_invited_countries("FR");
  Status not_invited = Open(elsewhere, now);
  EXPECT_EQ(not_invited.code(), Code::kFailedPrecondition);
  EXPECT_EQ(not_invited.reason(), "COUNTRY_NOT_INVITED");
  EXPECT_EQ(not_invited.field(), "participant.country_code");
}

TEST(RoleTable, EveryMethodListedAndLeastPrivilege) {
  const auto* service =
      v1::Registration::descriptor()->file()->FindServiceByName("RegistrationService");
  ASSERT_NE(service, nullptr);
  for (bool integration : {false, true}) {
    auto roles = RegistrationRoles(integration);
    for (int i = 0; i < service->method_count(); ++i) {
      EXPECT_TRUE(roles.Knows(service->method(i)->name())) << service->method(i)->name();
    }
    EXPECT_EQ(roles.rows().size(), static_cast<size_t>(service->method_count()));
    EXPECT_TRUE(roles.Allows("Register", Role::kFrontend));
    EXPECT_FALSE(roles.Allows("Register", Role::kIntegration));
    EXPECT_FALSE(roles.Allows("ListRegistrations", Role::kFrontend));
    EXPECT_FALSE(roles.Allows("ApproveRegistration", Role::kService));
    EXPECT_FALSE(roles.Allows("ErasePersonalData", Role::kService));
    EXPECT_EQ(roles.Allows("ListRegistrations", Role::kIntegration), integration);
  }
}

}  // namespace
}  // namespace ecd::registration
