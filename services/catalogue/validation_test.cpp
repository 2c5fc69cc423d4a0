#include "services/catalogue/validation.hpp"

#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

#include "common/field_mask.hpp"
#include "ecd/catalogue/v1/catalogue.grpc.pb.h"
#include "services/catalogue/catalogue.hpp"

namespace ecd::catalogue {
namespace {

using google::protobuf::util::TimeUtil;

google::protobuf::Timestamp T(const char* s) {
  google::protobuf::Timestamp t;
  EXPECT_TRUE(TimeUtil::FromString(s, &t));
  return t;
}

v1::Event Valid() {
  v1::Event e;
  e.set_title("Webinar");
  e.set_region(v1::REGION_AFRICA);
  e.set_language_code("fr");
  *e.mutable_start_time() = T("2020-07-09T08:00:00Z");
  *e.mutable_end_time() = T("2020-07-09T09:45:00Z");
  e.set_duration_minutes(100);
  e.add_invited_countries("SN");
  e.add_invited_countries("CI");
  auto* seg = e.add_agenda();
  seg->set_title("Legislation");
  seg->set_presentation_minutes(10);
  seg->set_discussion_minutes(15);
  ApplyEventDefaults(&e);
  return e;
}

// Expects INVALID_ARGUMENT naming `field` after `mutate`.
void ExpectBad(const std::function<void(v1::Event&)>& mutate, const std::string& field) {
  v1::Event e = Valid();
  mutate(e);
  Status s = ValidateEvent(e);
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << field;
  EXPECT_EQ(s.field(), field) << s.ToString();
}

TEST(ValidateEvent, ValidEventPasses) {
  Status s = ValidateEvent(Valid());
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST(ValidateEvent, Defaults) {
  v1::Event e;
  ApplyEventDefaults(&e);
  EXPECT_EQ(e.participants_per_country(), 4);
  EXPECT_EQ(e.certificate_threshold_percent(), 75);
  EXPECT_EQ(e.info_kit_lead_hours(), 72);
  EXPECT_EQ(e.approval_mode(), v1::APPROVAL_MODE_AUTOMATIC);
  EXPECT_EQ(e.recording().state(), v1::RECORDING_STATE_NOT_RECORDED);
}

TEST(ValidateEvent, EveryFieldRule) {
  ExpectBad([](v1::Event& e) { e.set_title(""); }, "event.title");
  ExpectBad([](v1::Event& e) { e.set_title(std::string(201, 'x')); }, "event.title");
  ExpectBad([](v1::Event& e) { e.set_title("a\x01b"); }, "event.title");
  ExpectBad([](v1::Event& e) { e.set_description(std::string(20001, 'x')); }, "event.description");
  ExpectBad([](v1::Event& e) { e.set_series("series/nope"); }, "event.series");
  ExpectBad([](v1::Event& e) { e.set_region(v1::REGION_UNSPECIFIED); }, "event.region");
  ExpectBad([](v1::Event& e) { e.set_region(static_cast<v1::Region>(42)); }, "event.region");
  ExpectBad([](v1::Event& e) { e.set_language_code("EN"); }, "event.language_code");
  ExpectBad([](v1::Event& e) { e.set_language_code("xx"); }, "event.language_code");
  ExpectBad([](v1::Event& e) { e.clear_start_time(); }, "event.start_time");
  ExpectBad([](v1::Event& e) { e.clear_end_time(); }, "event.end_time");
  ExpectBad([](v1::Event& e) { *e.mutable_end_time() = e.start_time(); }, "event.end_time");
  ExpectBad([](v1::Event& e) { *e.mutable_end_time() = T("2020-07-09T07:00:00Z"); },
            "event.end_time");
  ExpectBad([](v1::Event& e) { *e.mutable_start_time() = T("1999-01-01T00:00:00Z"); },
            "event.start_time");
  ExpectBad([](v1::Event& e) { e.mutable_start_time()->set_nanos(-1); }, "event.start_time");
  ExpectBad([](v1::Event& e) { *e.mutable_end_time() = T("2020-08-09T07:00:00Z"); },
            "event.end_time");
  ExpectBad([](v1::Event& e) { e.set_duration_minutes(0); }, "event.duration_minutes");
  ExpectBad([](v1::Event& e) { e.set_duration_minutes(106); }, "event.duration_minutes");
  ExpectBad([](v1::Event& e) { e.set_platform(std::string(101, 'z')); }, "event.platform");
  ExpectBad([](v1::Event& e) { e.set_join_url("zoom.us/j/1"); }, "event.join_url");
  ExpectBad([](v1::Event& e) { e.set_join_url("https://zoom.us/j/1 2"); }, "event.join_url");
  ExpectBad([](v1::Event& e) { e.mutable_agenda(0)->set_presentation_minutes(11); },
            "event.agenda[0].presentation_minutes");
  ExpectBad([](v1::Event& e) { e.mutable_agenda(0)->set_presentation_minutes(-1); },
            "event.agenda[0].presentation_minutes");
  ExpectBad([](v1::Event& e) { e.mutable_agenda(0)->set_discussion_minutes(101); },
            "event.agenda[0].discussion_minutes");
  ExpectBad([](v1::Event& e) { e.mutable_agenda(0)->set_title(""); }, "event.agenda[0].title");
  ExpectBad(
      [](v1::Event& e) {
        for (int i = 0; i < 50; ++i) *e.add_agenda() = e.agenda(0);
      },
      "event.agenda");
  ExpectBad([](v1::Event& e) { e.add_topics(""); }, "event.topics[0]");
  ExpectBad(
      [](v1::Event& e) {
        for (int i = 0; i < 21; ++i) e.add_topics("t");
      },
      "event.topics");
  ExpectBad([](v1::Event& e) { e.add_invited_countries("ZZ"); }, "event.invited_countries[2]");
  ExpectBad([](v1::Event& e) { e.add_invited_countries("sn"); }, "event.invited_countries[2]");
  ExpectBad([](v1::Event& e) { e.add_invited_countries("SN"); }, "event.invited_countries[2]");
  ExpectBad([](v1::Event& e) { e.set_participants_per_country(-1); },
            "event.participants_per_country");
  ExpectBad([](v1::Event& e) { e.set_participants_per_country(1001); },
            "event.participants_per_country");
  ExpectBad([](v1::Event& e) { *e.mutable_registration_close_time() = T("2020-07-10T00:00:00Z"); },
            "event.registration_close_time");
  ExpectBad(
      [](v1::Event& e) {
        *e.mutable_registration_open_time() = T("2020-07-01T00:00:00Z");
        *e.mutable_registration_close_time() = T("2020-06-01T00:00:00Z");
      },
      "event.registration_close_time");
  ExpectBad([](v1::Event& e) { e.set_approval_mode(static_cast<v1::ApprovalMode>(7)); },
            "event.approval_mode");
  ExpectBad([](v1::Event& e) { e.set_certificate_threshold_percent(101); },
            "event.certificate_threshold_percent");
  ExpectBad([](v1::Event& e) { e.set_info_kit_lead_hours(-3); }, "event.info_kit_lead_hours");
  ExpectBad([](v1::Event& e) { e.mutable_recording()->set_state(v1::RECORDING_STATE_PUBLISHED); },
            "event.recording.url");
  ExpectBad(
      [](v1::Event& e) { e.mutable_recording()->set_state(static_cast<v1::RecordingState>(9)); },
      "event.recording.state");
  ExpectBad([](v1::Event& e) { e.set_status(static_cast<v1::EventStatus>(9)); }, "event.status");
}

TEST(ValidateSeries, Rules) {
  v1::Series s;
  s.set_title("Series");
  EXPECT_TRUE(ValidateSeries(s).ok());
  s.add_organisers("");
  EXPECT_EQ(ValidateSeries(s).field(), "series.organisers[0]");
  s.clear_organisers();
  s.set_title("");
  EXPECT_EQ(ValidateSeries(s).field(), "series.title");
}

TEST(ParseName, Forms) {
  EXPECT_TRUE(
      ParseResourceName("events/5eed0000-0000-4000-8000-000000000011", "events", "name").ok());
  EXPECT_EQ(ParseResourceName("", "events", "name").status().field(), "name");
  EXPECT_FALSE(
      ParseResourceName("series/5eed0000-0000-4000-8000-000000000011", "events", "name").ok());
  EXPECT_FALSE(
      ParseResourceName("events/5EED0000-0000-4000-8000-000000000011", "events", "name").ok());
  EXPECT_FALSE(ParseResourceName("events/../x", "events", "name").ok());
  auto m = ParseMaterialName(
      "events/5eed0000-0000-4000-8000-000000000011/materials/5eed0000-0000-4000-8000-000000000099",
      "name");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->second, "5eed0000-0000-4000-8000-000000000099");
  EXPECT_FALSE(ParseMaterialName("events/5eed0000-0000-4000-8000-000000000011", "name").ok());
}

TEST(UpdateMask, AppliesOnlyMaskedFields) {
  v1::Event target = Valid();
  v1::Event patch;
  patch.set_title("New title");
  patch.set_description("ignored: not in the mask");
  patch.add_invited_countries("GH");
  ASSERT_TRUE(ApplyUpdateMask(patch, {"title", "invited_countries"}, &target).ok());
  EXPECT_EQ(target.title(), "New title");
  EXPECT_EQ(target.description(), "");
  ASSERT_EQ(target.invited_countries_size(), 1);
  EXPECT_EQ(target.invited_countries(0), "GH");
  EXPECT_EQ(target.agenda_size(), 1) << "agenda not in the mask";
}

TEST(UpdateMask, RecordingSubfields) {
  v1::Event target = Valid();
  v1::Event patch;
  patch.mutable_recording()->set_state(v1::RECORDING_STATE_PUBLISHED);
  patch.mutable_recording()->set_url("https://example.org/rec");
  ASSERT_TRUE(ApplyUpdateMask(patch, {"recording.state", "recording.url"}, &target).ok());
  EXPECT_EQ(target.recording().url(), "https://example.org/rec");
  EXPECT_TRUE(ValidateEvent(target).ok());
}

TEST(UpdateMask, RejectsEmptyUnknownAndOutputOnly) {
  EXPECT_EQ(CheckMask({}, UpdatablePaths()).status().field(), "update_mask");
  EXPECT_EQ(CheckMask({"nope"}, UpdatablePaths()).status().field(), "update_mask");
  EXPECT_EQ(CheckMask({"status"}, UpdatablePaths()).status().field(), "update_mask");
  EXPECT_EQ(CheckMask({"name"}, UpdatablePaths()).status().field(), "update_mask");
  EXPECT_EQ(CheckMask({"revision"}, UpdatablePaths()).status().field(), "update_mask");
  auto camel = CheckMask({"registrationCloseTime", "recording.url"}, UpdatablePaths());
  ASSERT_TRUE(camel.ok());
  EXPECT_EQ(*camel, (std::vector<std::string>{"registration_close_time", "recording.url"}));
}

TEST(ValidateEventTest, EveryInvalidFieldAtOnce) {
  v1::Event e = Valid();
  e.set_title("");
  e.set_region(v1::REGION_UNSPECIFIED);
  e.set_participants_per_country(0);
  Status st = ValidateEvent(e);
  ASSERT_EQ(st.violations().size(), 3u) << st.ToString();
  EXPECT_EQ(st.violations()[0].first, "event.title");
  EXPECT_EQ(st.violations()[1].first, "event.region");
  EXPECT_EQ(st.violations()[2].first, "event.participants_per_country");
  EXPECT_EQ(st.field(), "event.title");
}

TEST(ValidateMaterial, Rules) {
  v1::Material m;
  m.set_kind(v1::MATERIAL_KIND_SLIDES);
  m.set_title("Slides");
  EXPECT_TRUE(ValidateMaterial(m, "bytes").ok());
  EXPECT_EQ(ValidateMaterial(m, "").field(), "content");
  EXPECT_EQ(ValidateMaterial(m, std::string(kMaxMaterialBytes + 1, 'x')).field(), "content");
  EXPECT_TRUE(ValidateMaterial(m, std::string(kMaxMaterialBytes, 'x')).ok());
  m.set_external_uri("https://example.org/kit.pdf");
  EXPECT_EQ(ValidateMaterial(m, "bytes").field(), "material.external_uri");
  EXPECT_TRUE(ValidateMaterial(m, "").ok());
  m.set_external_uri("ftp://example.org/kit.pdf");
  EXPECT_EQ(ValidateMaterial(m, "").field(), "material.external_uri");
  m.clear_external_uri();
  m.set_filename("../etc/passwd");
  EXPECT_EQ(ValidateMaterial(m, "x").field(), "material.filename");
  m.clear_filename();
  m.set_kind(static_cast<v1::MaterialKind>(12));
  EXPECT_EQ(ValidateMaterial(m, "x").field(), "material.kind");
  m.set_kind(v1::MATERIAL_KIND_OTHER);
  m.set_title("");
  EXPECT_EQ(ValidateMaterial(m, "x").field(), "material.title");
}

TEST(RoleTable, EveryMethodListedAndWritesAdminOnly) {
  const auto* service = v1::Event::descriptor()->file()->FindServiceByName("CatalogueService");
  ASSERT_NE(service, nullptr);
  const auto& roles = CatalogueRoles();
  for (int i = 0; i < service->method_count(); ++i) {
    const std::string name = service->method(i)->name();
    EXPECT_TRUE(roles.Knows(name)) << name << " has no row in the role table";
    bool write =
        name.rfind("Get", 0) != 0 && name.rfind("List", 0) != 0 && name != "DownloadMaterial";
    if (write) {
      EXPECT_TRUE(roles.Allows(name, Role::kAdmin)) << name;
      EXPECT_FALSE(roles.Allows(name, Role::kFrontend)) << name;
      EXPECT_FALSE(roles.Allows(name, Role::kIntegration)) << name;
      EXPECT_FALSE(roles.Allows(name, Role::kService)) << name;
    }
  }
  EXPECT_EQ(roles.rows().size(), static_cast<size_t>(service->method_count()));
  EXPECT_TRUE(roles.Allows("DownloadMaterial", Role::kFrontend));
  EXPECT_FALSE(roles.Allows("DownloadMaterial", Role::kIntegration));
  EXPECT_TRUE(roles.Allows("ListEvents", Role::kIntegration));
}

}  // namespace
}  // namespace ecd::catalogue
