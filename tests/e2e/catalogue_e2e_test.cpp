// End to end: the real catalogue binary, a real PostgreSQL, called over gRPC with buf curl (a
// client that knows nothing but reflection) and with our own C++ client.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iostream>
#include <pqxx/pqxx>
#include <random>
#include <sstream>
#include <thread>

#include "common/crypto.hpp"
#include "ecd/catalogue/v1/catalogue.grpc.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "tests/harness/grpc_client.hpp"
#include "tests/harness/harness.hpp"

namespace ecd::test {
namespace {

namespace v1 = ::ecd::catalogue::v1;
using google::protobuf::util::TimeUtil;
constexpr char kCatalogue[] = "ecd.catalogue.v1.CatalogueService/";

std::unique_ptr<v1::CatalogueService::Stub> StubFor(const std::string& address,
                                                    bool slow_reader = false) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetMaxSendMessageSize(64 << 20);
  if (slow_reader) {
    // No BDP probing: the HTTP/2 window stays small, so the server can only run a little ahead
    // of what this client has read.
    args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  }
  return v1::CatalogueService::NewStub(
      grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
}

google::protobuf::Timestamp T(const std::string& s) {
  google::protobuf::Timestamp t;
  EXPECT_TRUE(TimeUtil::FromString(s, &t)) << s;
  return t;
}

v1::Event NewEvent(const std::string& title) {
  v1::Event e;
  e.set_title(title);
  e.set_region(v1::REGION_AFRICA);
  e.set_language_code("en");
  *e.mutable_start_time() = T("2026-03-03T08:00:00Z");
  *e.mutable_end_time() = T("2026-03-03T09:45:00Z");
  e.set_duration_minutes(100);
  e.set_platform("Zoom");
  e.set_join_url("https://zoom.us/j/123456");
  e.add_invited_countries("NG");
  e.add_invited_countries("GH");
  auto* seg = e.add_agenda();
  seg->set_title("Legislation");
  seg->set_presentation_minutes(10);
  seg->set_discussion_minutes(15);
  return e;
}

template <class Msg>
Msg ParseJson(const std::string& json) {
  Msg m;
  auto st = google::protobuf::util::JsonStringToMessage(json, &m);
  EXPECT_TRUE(st.ok()) << st.ToString() << "\n" << json;
  return m;
}

class CatalogueE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    db_url_ = new std::string(NewDatabaseUrl("e2e"));
    auto seed = ecd::test::Run({ECD_CATALOGUE_BIN, "--seed"}, {{"ECD_PG_URL", *db_url_}});
    ASSERT_EQ(seed.exit_code, 0) << seed.err << seed.out;
    ASSERT_NE(seed.out.find("seed: 6 created"), std::string::npos) << seed.out;
    auto again = ecd::test::Run({ECD_CATALOGUE_BIN, "--seed"}, {{"ECD_PG_URL", *db_url_}});
    ASSERT_EQ(again.exit_code, 0);
    ASSERT_NE(again.out.find("seed: 0 created, 6 already there"), std::string::npos) << again.out;
    service_ = new ServiceProcess(ECD_CATALOGUE_BIN, {{"ECD_PG_URL", *db_url_}});
    ASSERT_TRUE(service_->WaitHealth("SERVING", std::chrono::seconds(30)))
        << service_->process().Log();
  }
  static void TearDownTestSuite() {
    delete service_;
    delete db_url_;
  }

  v1::CatalogueService::Stub& stub() {
    if (!stub_) stub_ = StubFor(service_->address());
    return *stub_;
  }
  const Tokens& tokens() { return TestTokens(); }

  // Every event an admin sees, all pages.
  std::vector<v1::Event> AllEvents() {
    std::vector<v1::Event> out;
    v1::ListEventsRequest req;
    req.set_page_size(100);
    for (;;) {
      v1::ListEventsResponse resp;
      auto st = stub().ListEvents(Ctx(tokens().admin).get(), req, &resp);
      EXPECT_TRUE(st.ok()) << st.error_message();
      out.insert(out.end(), resp.events().begin(), resp.events().end());
      if (!st.ok() || resp.next_page_token().empty()) return out;
      req.set_page_token(resp.next_page_token());
    }
  }

  v1::Event CreateDraft(const std::string& title) {
    v1::CreateEventRequest req;
    *req.mutable_event() = NewEvent(title);
    v1::CreateEventResponse resp;
    auto st = stub().CreateEvent(Ctx(tokens().admin).get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.event();
  }

  static std::string* db_url_;
  static ServiceProcess* service_;
  std::unique_ptr<v1::CatalogueService::Stub> stub_;
};

std::string* CatalogueE2E::db_url_ = nullptr;
ServiceProcess* CatalogueE2E::service_ = nullptr;

TEST_F(CatalogueE2E, ReflectionListsEveryServiceForBufCurl) {
  auto r = ecd::test::Run({BufPath(), "curl", "--protocol", "grpc", "--http2-prior-knowledge",
                           "--list-methods", "http://" + service_->address()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* m :
       {"ecd.catalogue.v1.CatalogueService/ListEvents",
        "ecd.catalogue.v1.CatalogueService/DownloadMaterial", "grpc.health.v1.Health/Check"}) {
    EXPECT_NE(r.out.find(m), std::string::npos) << m << " missing from\n" << r.out;
  }
}

TEST_F(CatalogueE2E, HealthIsServingThroughBufCurl) {
  auto r = BufCurl(service_->address(), "grpc.health.v1.Health/Check", "", "");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"SERVING\""), std::string::npos) << r.out;
}

TEST_F(CatalogueE2E, SeededWebinarsComeBackInStartOrderWithExactTimes) {
  auto r = BufCurl(service_->address(), std::string(kCatalogue) + "ListEvents",
                   R"({"series":"series/5eed0000-0000-4000-8000-000000000001"})", tokens().admin);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto resp = ParseJson<v1::ListEventsResponse>(r.out);
  const std::vector<std::tuple<std::string, std::string, std::string, v1::Region>> want = {
      {"2020-06-24T07:00:00Z", "2020-06-24T08:45:00Z", "en", v1::REGION_ASIA_PACIFIC},
      {"2020-07-07T08:00:00Z", "2020-07-07T09:45:00Z", "en", v1::REGION_AFRICA},
      {"2020-07-09T08:00:00Z", "2020-07-09T09:45:00Z", "fr", v1::REGION_AFRICA},
      {"2020-07-20T15:00:00Z", "2020-07-20T16:45:00Z", "en", v1::REGION_LATIN_AMERICA_CARIBBEAN},
      {"2020-07-22T15:00:00Z", "2020-07-22T16:45:00Z", "es", v1::REGION_LATIN_AMERICA_CARIBBEAN},
  };
  ASSERT_EQ(resp.events_size(), 5);
  for (int i = 0; i < 5; ++i) {
    const auto& e = resp.events(i);
    EXPECT_EQ(TimeUtil::ToString(e.start_time()), std::get<0>(want[i]));
    EXPECT_EQ(TimeUtil::ToString(e.end_time()), std::get<1>(want[i]));
    EXPECT_EQ(e.language_code(), std::get<2>(want[i]));
    EXPECT_EQ(e.region(), std::get<3>(want[i]));
    EXPECT_EQ(e.duration_minutes(), 100);
    EXPECT_EQ(e.participants_per_country(), 4);
    EXPECT_EQ(e.platform(), "Zoom");
    EXPECT_EQ(e.status(), v1::EVENT_STATUS_PUBLISHED);
    EXPECT_EQ(e.topics_size(), 4);
  }
  EXPECT_EQ(resp.events(0).invited_countries_size(), 54);
  EXPECT_EQ(resp.events(3).invited_countries_size(), 33);
}

TEST_F(CatalogueE2E, AdminCreatesUpdatesPublishesAndCancels) {
  v1::Event created = CreateDraft("Lifecycle webinar");
  ASSERT_FALSE(created.name().empty());
  EXPECT_EQ(created.status(), v1::EVENT_STATUS_DRAFT);
  EXPECT_EQ(created.participants_per_country(), 4) << "default";
  EXPECT_EQ(created.certificate_threshold_percent(), 75) << "default";
  EXPECT_EQ(created.info_kit_lead_hours(), 72) << "default";
  EXPECT_EQ(created.revision(), 1);

  v1::UpdateEventRequest upd;
  upd.mutable_event()->set_name(created.name());
  upd.mutable_event()->set_title("Renamed webinar");
  upd.mutable_event()->set_description("not in the mask, so ignored");
  *upd.mutable_event()->mutable_start_time() = T("2026-03-03T09:00:00Z");
  *upd.mutable_event()->mutable_end_time() = T("2026-03-03T10:45:00Z");
  upd.mutable_update_mask()->add_paths("title");
  upd.mutable_update_mask()->add_paths("start_time");
  upd.mutable_update_mask()->add_paths("end_time");
  v1::UpdateEventResponse updated;
  auto st = stub().UpdateEvent(Ctx(tokens().admin).get(), upd, &updated);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(updated.event().title(), "Renamed webinar");
  EXPECT_EQ(updated.event().description(), "");
  EXPECT_EQ(TimeUtil::ToString(updated.event().start_time()), "2026-03-03T09:00:00Z");
  EXPECT_EQ(updated.event().agenda_size(), 1);
  EXPECT_EQ(updated.event().revision(), 2);

  v1::PublishEventRequest pub;
  pub.set_name(created.name());
  v1::PublishEventResponse published;
  ASSERT_TRUE(stub().PublishEvent(Ctx(tokens().admin).get(), pub, &published).ok());
  EXPECT_EQ(published.event().status(), v1::EVENT_STATUS_PUBLISHED);
  st = stub().PublishEvent(Ctx(tokens().admin).get(), pub, &published);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(InfoOf(st).reason(), "INVALID_STATUS_TRANSITION");

  v1::CancelEventRequest cancel;
  cancel.set_name(created.name());
  v1::CancelEventResponse cancelled;
  ASSERT_TRUE(stub().CancelEvent(Ctx(tokens().admin).get(), cancel, &cancelled).ok());
  EXPECT_EQ(cancelled.event().status(), v1::EVENT_STATUS_CANCELLED);

  v1::GetEventRequest get;
  get.set_name(created.name());
  v1::GetEventResponse got;
  ASSERT_TRUE(stub().GetEvent(Ctx(tokens().admin).get(), get, &got).ok());
  EXPECT_EQ(got.event().status(), v1::EVENT_STATUS_CANCELLED);
  EXPECT_EQ(got.event().title(), "Renamed webinar");

  st = stub().UpdateEvent(Ctx(tokens().admin).get(), upd, &updated);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(InfoOf(st).reason(), "EVENT_CANCELLED");
}

TEST_F(CatalogueE2E, CreateWithRequestIdIsIdempotent) {
  v1::CreateEventRequest req;
  *req.mutable_event() = NewEvent("Idempotent webinar");
  req.set_request_id("e2e-" + NewUuid());
  size_t before = AllEvents().size();
  v1::CreateEventResponse a, b;
  ASSERT_TRUE(stub().CreateEvent(Ctx(tokens().admin).get(), req, &a).ok());
  ASSERT_TRUE(stub().CreateEvent(Ctx(tokens().admin).get(), req, &b).ok());
  EXPECT_EQ(a.event().name(), b.event().name());
  EXPECT_EQ(AllEvents().size(), before + 1);
  req.mutable_event()->set_title("Another request with the same id");
  auto st = stub().CreateEvent(Ctx(tokens().admin).get(), req, &b);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(InfoOf(st).reason(), "REQUEST_ID_REUSED");
}

TEST_F(CatalogueE2E, FrontendCannotCreateNorSeeDraftsNorJoinUrl) {
  v1::CreateEventRequest req;
  *req.mutable_event() = NewEvent("Frontend attempt");
  v1::CreateEventResponse resp;
  auto st = stub().CreateEvent(Ctx(tokens().frontend).get(), req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(InfoOf(st).reason(), "PERMISSION_DENIED");
  EXPECT_EQ(InfoOf(st).domain(), "catalogue.ecd");

  v1::Event draft = CreateDraft("Secret draft");
  v1::GetEventRequest get;
  get.set_name(draft.name());
  v1::GetEventResponse got;
  EXPECT_EQ(stub().GetEvent(Ctx(tokens().frontend).get(), get, &got).error_code(),
            grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(stub().GetEvent(Ctx(tokens().service).get(), get, &got).ok());
  EXPECT_EQ(got.event().join_url(), "https://zoom.us/j/123456") << "service sees the join URL";

  // Through buf curl as well: the frontend's list has no draft and no join URL.
  auto r = BufCurl(service_->address(), std::string(kCatalogue) + "ListEvents",
                   R"({"pageSize":100})", tokens().frontend);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto list = ParseJson<v1::ListEventsResponse>(r.out);
  EXPECT_GE(list.events_size(), 5);
  for (const auto& e : list.events()) {
    EXPECT_NE(e.status(), v1::EVENT_STATUS_DRAFT) << e.name();
    EXPECT_NE(e.name(), draft.name());
    EXPECT_TRUE(e.join_url().empty()) << e.name();
  }

  v1::PublishEventRequest pub;
  pub.set_name(draft.name());
  v1::PublishEventResponse published;
  ASSERT_TRUE(stub().PublishEvent(Ctx(tokens().admin).get(), pub, &published).ok());
  ASSERT_TRUE(stub().GetEvent(Ctx(tokens().frontend).get(), get, &got).ok());
  EXPECT_TRUE(got.event().join_url().empty());
  ASSERT_TRUE(stub().GetEvent(Ctx(tokens().integration).get(), get, &got).ok());
  EXPECT_TRUE(got.event().join_url().empty());
}

TEST_F(CatalogueE2E, NoOrUnknownTokenIsUnauthenticated) {
  auto r = BufCurl(service_->address(), std::string(kCatalogue) + "ListEvents", "", "");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE((r.out + r.err).find("unauthenticated"), std::string::npos) << r.out << r.err;
  v1::ListEventsRequest req;
  v1::ListEventsResponse resp;
  EXPECT_EQ(stub().ListEvents(Ctx("").get(), req, &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(stub().ListEvents(Ctx("not-a-known-token").get(), req, &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(CatalogueE2E, MaterialRoundTripsByteForByte) {
  v1::Event e = CreateDraft("Webinar with a kit");
  std::string bytes(3 * 1024 * 1024 + 12345, '\0');
  std::mt19937 rng(42);
  for (auto& c : bytes) c = static_cast<char>(rng());
  v1::AddMaterialRequest add;
  add.set_parent(e.name());
  add.mutable_material()->set_kind(v1::MATERIAL_KIND_SLIDES);
  add.mutable_material()->set_title("Slide deck");
  add.mutable_material()->set_filename("slides.pptx");
  add.set_content(bytes);
  v1::AddMaterialResponse added;
  auto st = stub().AddMaterial(Ctx(tokens().admin).get(), add, &added);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(added.material().sha256(), Sha256Hex(bytes));
  EXPECT_EQ(added.material().size_bytes(), static_cast<int64_t>(bytes.size()));

  auto download = [&](const std::string& token, grpc::Status* status) {
    v1::DownloadMaterialRequest req;
    req.set_name(added.material().name());
    auto ctx = Ctx(token);
    auto reader = stub().DownloadMaterial(ctx.get(), req);
    v1::DownloadMaterialResponse msg;
    std::string got;
    int messages = 0;
    while (reader->Read(&msg)) {
      if (messages++ == 0) {
        EXPECT_EQ(msg.material().sha256(), Sha256Hex(bytes));
      }
      got += msg.chunk();
    }
    *status = reader->Finish();
    return got;
  };
  grpc::Status dst;
  std::string got = download(tokens().admin, &dst);
  ASSERT_TRUE(dst.ok()) << dst.error_message();
  EXPECT_EQ(got.size(), bytes.size());
  EXPECT_TRUE(got == bytes);
  EXPECT_EQ(Sha256Hex(got), added.material().sha256());

  // A draft's materials are hidden from the frontend, shown once published.
  download(tokens().frontend, &dst);
  EXPECT_EQ(dst.error_code(), grpc::StatusCode::NOT_FOUND);
  download(tokens().integration, &dst);
  EXPECT_EQ(dst.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  v1::PublishEventRequest pub;
  pub.set_name(e.name());
  v1::PublishEventResponse published;
  ASSERT_TRUE(stub().PublishEvent(Ctx(tokens().admin).get(), pub, &published).ok());
  EXPECT_TRUE(download(tokens().frontend, &dst) == bytes);
  EXPECT_TRUE(dst.ok());

  v1::ListMaterialsRequest list;
  list.set_parent(e.name());
  v1::ListMaterialsResponse listed;
  ASSERT_TRUE(stub().ListMaterials(Ctx(tokens().frontend).get(), list, &listed).ok());
  ASSERT_EQ(listed.materials_size(), 1);

  v1::DeleteMaterialRequest del;
  del.set_name(added.material().name());
  v1::DeleteMaterialResponse deleted;
  EXPECT_EQ(stub().DeleteMaterial(Ctx(tokens().frontend).get(), del, &deleted).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(stub().DeleteMaterial(Ctx(tokens().admin).get(), del, &deleted).ok());
  download(tokens().admin, &dst);
  EXPECT_EQ(dst.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(CatalogueE2E, PagingWithOpaqueTokens) {
  for (int i = 0; i < 4; ++i) CreateDraft("Paged webinar " + std::to_string(i));
  std::vector<std::string> names;
  v1::ListEventsRequest req;
  req.set_page_size(2);
  int pages = 0;
  for (;;) {
    v1::ListEventsResponse resp;
    auto st = stub().ListEvents(Ctx(tokens().admin).get(), req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_LE(resp.events_size(), 2);
    for (const auto& e : resp.events()) names.push_back(e.name());
    ++pages;
    if (resp.next_page_token().empty()) break;
    req.set_page_token(resp.next_page_token());
  }
  auto all = AllEvents();
  ASSERT_EQ(names.size(), all.size());
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(names[i], all[i].name());
  EXPECT_GE(pages, 5);

  // A token from another filter is refused.
  v1::ListEventsRequest first;
  first.set_page_size(1);
  v1::ListEventsResponse resp;
  ASSERT_TRUE(stub().ListEvents(Ctx(tokens().admin).get(), first, &resp).ok());
  ASSERT_FALSE(resp.next_page_token().empty());
  v1::ListEventsRequest other = first;
  other.set_language_code("fr");
  other.set_page_token(resp.next_page_token());
  auto st = stub().ListEvents(Ctx(tokens().admin).get(), other, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(InfoOf(st).metadata().at("field"), "page_token");
}

// Each bad request: INVALID_ARGUMENT naming the field, and nothing written.
TEST_F(CatalogueE2E, BadInputIsRefusedNamingTheFieldAndWritesNothing) {
  v1::Event target = CreateDraft("Target of bad materials");
  auto count_materials = [&] {
    v1::ListMaterialsRequest req;
    req.set_parent(target.name());
    v1::ListMaterialsResponse resp;
    EXPECT_TRUE(stub().ListMaterials(Ctx(tokens().admin).get(), req, &resp).ok());
    return resp.materials_size();
  };
  const size_t events_before = AllEvents().size();
  const int materials_before = count_materials();

  auto expect_field = [](const grpc::Status& st, const std::string& field) {
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << field;
    auto info = InfoOf(st);
    EXPECT_EQ(info.reason(), "INVALID_ARGUMENT");
    EXPECT_EQ(info.metadata().count("field") ? info.metadata().at("field") : "", field)
        << st.error_message();
    EXPECT_NE(st.error_message().find(field), std::string::npos) << st.error_message();
  };
  auto create = [&](const std::function<void(v1::Event&)>& mutate) {
    v1::CreateEventRequest req;
    *req.mutable_event() = NewEvent("Bad input");
    mutate(*req.mutable_event());
    v1::CreateEventResponse resp;
    return stub().CreateEvent(Ctx(tokens().admin).get(), req, &resp);
  };
  expect_field(create([](v1::Event& e) { e.add_invited_countries("XX"); }),
               "event.invited_countries[2]");
  expect_field(create([](v1::Event& e) { *e.mutable_end_time() = T("2026-03-03T07:00:00Z"); }),
               "event.end_time");
  expect_field(create([](v1::Event& e) { e.mutable_agenda(0)->set_presentation_minutes(11); }),
               "event.agenda[0].presentation_minutes");
  expect_field(create([](v1::Event& e) { e.set_title(""); }), "event.title");
  expect_field(create([](v1::Event& e) { e.set_region(static_cast<v1::Region>(99)); }),
               "event.region");

  // An unknown enum value sent as a number through buf curl, as a client with a newer proto
  // would.
  auto r = BufCurl(service_->address(), std::string(kCatalogue) + "ListEvents", R"({"status": 42})",
                   tokens().admin);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("invalid_argument"), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.err.find("status: must be one of"), std::string::npos) << r.err;

  v1::ListEventsRequest list;
  v1::ListEventsResponse listed;
  list.set_page_size(101);
  expect_field(stub().ListEvents(Ctx(tokens().admin).get(), list, &listed), "page_size");
  list.set_page_size(10);
  list.set_page_token("bm90LWEtdG9rZW4");
  expect_field(stub().ListEvents(Ctx(tokens().admin).get(), list, &listed), "page_token");

  v1::AddMaterialRequest add;
  add.set_parent(target.name());
  add.mutable_material()->set_kind(v1::MATERIAL_KIND_FACT_SHEET);
  add.mutable_material()->set_title("Too big");
  add.set_content(std::string((20 << 20) + 1, 'x'));
  v1::AddMaterialResponse added;
  expect_field(stub().AddMaterial(Ctx(tokens().admin).get(), add, &added), "content");

  v1::UpdateEventRequest upd;
  upd.mutable_event()->set_name(target.name());
  upd.mutable_update_mask()->add_paths("status");
  v1::UpdateEventResponse updated;
  expect_field(stub().UpdateEvent(Ctx(tokens().admin).get(), upd, &updated), "update_mask");

  v1::GetEventRequest get;
  get.set_name("events/not-a-uuid");
  v1::GetEventResponse got;
  expect_field(stub().GetEvent(Ctx(tokens().admin).get(), get, &got), "name");

  EXPECT_EQ(AllEvents().size(), events_before) << "a refused request wrote an event";
  EXPECT_EQ(count_materials(), materials_before) << "a refused request wrote a material";
}

// SIGTERM while a download is streaming to a slow reader: the call finishes, then the process
// exits cleanly.
TEST_F(CatalogueE2E, SigtermLetsASlowCallFinish) {
  ServiceProcess own(ECD_CATALOGUE_BIN,
                     {{"ECD_PG_URL", *db_url_}, {"ECD_SHUTDOWN_DEADLINE_MS", "60000"}});
  ASSERT_TRUE(own.WaitHealth("SERVING", std::chrono::seconds(30))) << own.process().Log();
  auto stub = StubFor(own.address(), /*slow_reader=*/true);
  v1::Event e = CreateDraft("Webinar with a large kit");
  std::string bytes(8 * 1024 * 1024, '\0');
  std::mt19937 rng(7);
  for (auto& c : bytes) c = static_cast<char>(rng());
  v1::AddMaterialRequest add;
  add.set_parent(e.name());
  add.mutable_material()->set_kind(v1::MATERIAL_KIND_OTHER);
  add.mutable_material()->set_title("Large");
  add.set_content(bytes);
  v1::AddMaterialResponse added;
  ASSERT_TRUE(stub->AddMaterial(Ctx(tokens().admin).get(), add, &added).ok());

  v1::DownloadMaterialRequest req;
  req.set_name(added.material().name());
  auto ctx = Ctx(tokens().admin);
  auto reader = stub->DownloadMaterial(ctx.get(), req);
  v1::DownloadMaterialResponse msg;
  ASSERT_TRUE(reader->Read(&msg));
  std::string got = msg.chunk();
  own.process().Signal(SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  int after_signal = 0;
  while (reader->Read(&msg)) {
    got += msg.chunk();
    ++after_signal;
    if (after_signal % 16 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto st = reader->Finish();
  EXPECT_TRUE(st.ok()) << st.error_code() << " " << st.error_message();
  EXPECT_TRUE(got == bytes) << "received " << got.size() << " of " << bytes.size();
  // Flow control kept the server from sending ahead: most chunks were sent after the signal.
  EXPECT_GT(after_signal, 64);
  auto code = own.process().WaitExit(std::chrono::seconds(60));
  ASSERT_TRUE(code.has_value()) << "did not exit after draining";
  EXPECT_EQ(*code, 0) << own.process().Log();
  EXPECT_NE(own.process().Log().find("draining"), std::string::npos);
}

// Health follows PostgreSQL: NOT_SERVING while it is down, SERVING again when it returns.
TEST(CatalogueHealth, FollowsPostgres) {
  PgCluster pg;
  auto created = ecd::test::Run(
      {RequireEnv("ECD_TEST_PG_BIN") + "/psql", pg.url(), "-qc", "CREATE DATABASE ecd"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  ServiceProcess svc(ECD_CATALOGUE_BIN, {{"ECD_PG_URL", pg.url("ecd")}});
  ASSERT_TRUE(svc.WaitHealth("SERVING", std::chrono::seconds(30))) << svc.process().Log();
  pg.Stop();
  ASSERT_TRUE(svc.WaitHealth("NOT_SERVING", std::chrono::seconds(30))) << svc.process().Log();
  auto r = BufCurl(svc.address(), "grpc.health.v1.Health/Check", "", "");
  EXPECT_NE(r.out.find("NOT_SERVING"), std::string::npos) << r.out << r.err;
  // Calls fail cleanly meanwhile.
  auto stub = StubFor(svc.address());
  v1::ListEventsRequest req;
  v1::ListEventsResponse resp;
  EXPECT_EQ(stub->ListEvents(Ctx(TestTokens().admin).get(), req, &resp).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  pg.Start();
  ASSERT_TRUE(svc.WaitHealth("SERVING", std::chrono::seconds(30))) << svc.process().Log();
  EXPECT_TRUE(stub->ListEvents(Ctx(TestTokens().admin).get(), req, &resp).ok());
}

}  // namespace
}  // namespace ecd::test

namespace ecd::test {
namespace {

// JSON lines when asked: every line parses, and a call's line carries method, code, duration and
// the request id the client sent.
TEST(CatalogueOperations, JsonLogLinePerCall) {
  std::string db = NewDatabaseUrl("log");
  ServiceProcess svc(ECD_CATALOGUE_BIN, {{"ECD_PG_URL", db}, {"ECD_LOG_FORMAT", "json"}});
  ASSERT_TRUE(svc.WaitHealth("SERVING", std::chrono::seconds(30))) << svc.process().Log();
  auto stub = StubFor(svc.address());
  v1::GetEventRequest req;
  req.set_name("events/5eed0000-0000-4000-8000-00000000ffff");
  v1::GetEventResponse resp;
  auto ctx = Ctx(TestTokens().frontend);
  ctx->AddMetadata("x-request-id", "req-json-log-1");
  EXPECT_EQ(stub->GetEvent(ctx.get(), req, &resp).error_code(), grpc::StatusCode::NOT_FOUND);
  std::string log;
  for (int i = 0; i < 50 && log.find("req-json-log-1") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    log = svc.process().Log();
  }
  bool found = false;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] != '{') continue;
    google::protobuf::Struct parsed;
    auto st = google::protobuf::util::JsonStringToMessage(line, &parsed);
    ASSERT_TRUE(st.ok()) << "not JSON: " << line;
    const auto& f = parsed.fields();
    if (f.count("request_id") && f.at("request_id").string_value() == "req-json-log-1") {
      found = true;
      EXPECT_EQ(f.at("msg").string_value(), "call");
      EXPECT_EQ(f.at("method").string_value(), "GetEvent");
      EXPECT_EQ(f.at("code").string_value(), "NOT_FOUND");
      EXPECT_EQ(f.at("role").string_value(), "frontend");
      EXPECT_TRUE(f.count("duration_ms"));
    }
  }
  EXPECT_TRUE(found) << log;
}

TEST(CatalogueOperations, BadConfigurationStopsWithTheVariableNamed) {
  auto r = ecd::test::Run(
      {ECD_CATALOGUE_BIN},
      {{"ECD_PG_POOL_SIZE", "lots"}, {"ECD_LOG_FORMAT", "yaml"}, {"ECD_TOKENS", "x"}});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("ECD_PG_POOL_SIZE"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("ECD_LOG_FORMAT"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("ECD_TOKENS"), std::string::npos) << r.err;
}

TEST(CatalogueOperations, ServesTlsFromCertificateFiles) {
  std::string dir = TempDir();
  auto gen =
      ecd::test::Run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                      dir + "/key.pem", "-out", dir + "/cert.pem", "-days", "1", "-subj",
                      "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  std::string db = NewDatabaseUrl("tls");
  ServiceProcess svc(ECD_CATALOGUE_BIN, {{"ECD_PG_URL", db},
                                         {"ECD_TLS_CERT_FILE", dir + "/cert.pem"},
                                         {"ECD_TLS_KEY_FILE", dir + "/key.pem"}});
  grpc::SslCredentialsOptions ssl;
  std::ifstream in(dir + "/cert.pem");
  ssl.pem_root_certs.assign(std::istreambuf_iterator<char>(in), {});
  auto stub =
      v1::CatalogueService::NewStub(grpc::CreateChannel(svc.address(), grpc::SslCredentials(ssl)));
  v1::ListSeriesRequest req;
  v1::ListSeriesResponse resp;
  grpc::Status st;
  for (int i = 0; i < 100; ++i) {
    st = stub->ListSeries(Ctx(TestTokens().admin).get(), req, &resp);
    if (st.ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(st.ok()) << st.error_message() << svc.process().Log();
  // A plaintext client cannot talk to it.
  auto plain = StubFor(svc.address());
  auto ctx = Ctx(TestTokens().admin);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
  EXPECT_FALSE(plain->ListSeries(ctx.get(), req, &resp).ok());
}

TEST(CatalogueOperations, MessagesOverTheBoundAreRefused) {
  std::string db = NewDatabaseUrl("size");
  ServiceProcess svc(ECD_CATALOGUE_BIN, {{"ECD_PG_URL", db}, {"ECD_MAX_MESSAGE_BYTES", "65536"}});
  ASSERT_TRUE(svc.WaitHealth("SERVING", std::chrono::seconds(30))) << svc.process().Log();
  auto stub = StubFor(svc.address());
  v1::CreateSeriesRequest req;
  req.mutable_series()->set_title("Big");
  req.mutable_series()->set_description(std::string(70000, 'x'));
  v1::CreateSeriesResponse resp;
  EXPECT_EQ(stub->CreateSeries(Ctx(TestTokens().admin).get(), req, &resp).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  req.mutable_series()->set_description("small");
  EXPECT_TRUE(stub->CreateSeries(Ctx(TestTokens().admin).get(), req, &resp).ok());
}

}  // namespace
}  // namespace ecd::test

// The administrator's day with grpcurl (issue 15): masks in either spelling, every mistake at
// once, finding events by their text, deleting a draft, and a completed event that only its
// recording can change.
namespace ecd::test {
namespace {

google::rpc::BadRequest BadRequestOf(const grpc::Status& status) {
  google::rpc::Status rich;
  google::rpc::BadRequest bad;
  if (rich.ParseFromString(status.error_details())) {
    for (const auto& d : rich.details()) {
      if (d.UnpackTo(&bad)) break;
    }
  }
  return bad;
}

TEST_F(CatalogueE2E, MasksInEitherSpellingAndEveryMistakeAtOnce) {
  const v1::Event draft = CreateDraft("Mask webinar");
  for (const char* path : {"registration_close_time", "registrationCloseTime"}) {
    v1::UpdateEventRequest upd;
    upd.mutable_event()->set_name(draft.name());
    *upd.mutable_event()->mutable_registration_close_time() = draft.start_time();
    upd.mutable_update_mask()->add_paths(path);
    v1::UpdateEventResponse updated;
    auto st = stub().UpdateEvent(Ctx(tokens().admin).get(), upd, &updated);
    ASSERT_TRUE(st.ok()) << path << ": " << st.error_message();
    EXPECT_EQ(updated.event().registration_close_time().seconds(), draft.start_time().seconds());
  }
  // Through buf curl, the canonical JSON form of a mask (grpcurl takes {"paths": [...]}).
  auto r = BufCurl(service_->address(), std::string(kCatalogue) + "UpdateEvent",
                   "{\"event\": {\"name\": \"" + draft.name() +
                       "\", \"infoKitLeadHours\": 48}, \"updateMask\": \"infoKitLeadHours\"}",
                   tokens().admin);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"infoKitLeadHours\": 48"), std::string::npos) << r.out;
  // An unknown path is named, with the paths that can be updated.
  v1::UpdateEventRequest upd;
  upd.mutable_event()->set_name(draft.name());
  upd.mutable_update_mask()->add_paths("status");
  v1::UpdateEventResponse updated;
  auto st = stub().UpdateEvent(Ctx(tokens().admin).get(), upd, &updated);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("'status'"), std::string::npos) << st.error_message();
  EXPECT_NE(st.error_message().find("registration_close_time"), std::string::npos);
  // Three mistakes, three field violations, one round trip.
  v1::CreateEventRequest create;
  *create.mutable_event() = NewEvent("");
  create.mutable_event()->set_region(v1::REGION_UNSPECIFIED);
  create.mutable_event()->add_invited_countries("XX");
  v1::CreateEventResponse created;
  st = stub().CreateEvent(Ctx(tokens().admin).get(), create, &created);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  auto bad = BadRequestOf(st);
  std::vector<std::string> fields;
  for (const auto& v : bad.field_violations()) fields.push_back(v.field());
  EXPECT_EQ(fields.size(), 3u);
  EXPECT_NE(std::find(fields.begin(), fields.end(), "event.title"), fields.end());
  EXPECT_NE(std::find(fields.begin(), fields.end(), "event.region"), fields.end());
  EXPECT_EQ(std::count_if(
                fields.begin(), fields.end(),
                [](const std::string& f) { return f.rfind("event.invited_countries", 0) == 0; }),
            1);
}

TEST_F(CatalogueE2E, FindEventsByTextAndDeleteADraft) {
  const v1::Event a = CreateDraft("Cybercrime legislation — Amérique latine");
  const v1::Event b = CreateDraft("International cooperation in practice");
  v1::ListEventsRequest list;
  list.set_query("AMÉRIQUE");
  list.set_page_size(100);
  v1::ListEventsResponse found;
  ASSERT_TRUE(stub().ListEvents(Ctx(tokens().admin).get(), list, &found).ok());
  ASSERT_EQ(found.events_size(), 1);
  EXPECT_EQ(found.events(0).name(), a.name());
  // A draft goes; a published event stays.
  v1::DeleteEventRequest del;
  del.set_name(a.name());
  v1::DeleteEventResponse deleted;
  ASSERT_TRUE(stub().DeleteEvent(Ctx(tokens().admin).get(), del, &deleted).ok());
  v1::GetEventRequest get;
  get.set_name(a.name());
  v1::GetEventResponse got;
  EXPECT_EQ(stub().GetEvent(Ctx(tokens().admin).get(), get, &got).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::PublishEventRequest pub;
  pub.set_name(b.name());
  v1::PublishEventResponse published;
  ASSERT_TRUE(stub().PublishEvent(Ctx(tokens().admin).get(), pub, &published).ok());
  del.set_name(b.name());
  auto st = stub().DeleteEvent(Ctx(tokens().admin).get(), del, &deleted);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(InfoOf(st).reason(), "EVENT_NOT_DRAFT");
  EXPECT_EQ(stub().DeleteEvent(Ctx(tokens().frontend).get(), del, &deleted).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(CatalogueE2E, ACompletedEventOnlyTakesItsRecording) {
  v1::Event e = CreateDraft("Completed webinar");
  v1::PublishEventRequest pub;
  pub.set_name(e.name());
  v1::PublishEventResponse published;
  ASSERT_TRUE(stub().PublishEvent(Ctx(tokens().admin).get(), pub, &published).ok());
  ASSERT_TRUE(MoveSlot(stub(), tokens().admin, e.name(), "2020-07-22T15:00:00Z", 105).ok());
  v1::CompleteEventRequest complete;
  complete.set_name(e.name());
  v1::CompleteEventResponse completed;
  ASSERT_TRUE(stub().CompleteEvent(Ctx(tokens().admin).get(), complete, &completed).ok());
  v1::UpdateEventRequest upd;
  upd.mutable_event()->set_name(e.name());
  upd.mutable_event()->set_title("Renamed afterwards");
  upd.mutable_update_mask()->add_paths("title");
  v1::UpdateEventResponse updated;
  auto st = stub().UpdateEvent(Ctx(tokens().admin).get(), upd, &updated);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(InfoOf(st).reason(), "EVENT_CLOSED");
  EXPECT_EQ(InfoOf(st).metadata().at("event_status"), "EVENT_STATUS_COMPLETED");
  upd.mutable_event()->mutable_recording()->set_state(v1::RECORDING_STATE_PUBLISHED);
  upd.mutable_event()->mutable_recording()->set_url("https://video.example.org/webinar-5");
  upd.mutable_update_mask()->Clear();
  upd.mutable_update_mask()->add_paths("recording");
  st = stub().UpdateEvent(Ctx(tokens().admin).get(), upd, &updated);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(updated.event().title(), "Completed webinar");
  EXPECT_EQ(updated.event().recording().url(), "https://video.example.org/webinar-5");
}

}  // namespace
}  // namespace ecd::test

namespace ecd::test {
namespace {

// Two catalogue replicas over one database, each answering reads from memory (services/catalogue/
// cache.hpp): a write on one is read back at once by the writer and within a bound by the other;
// drafts, join URLs and a draft's materials never reach a frontend from memory; while the
// listening sessions are cut again and again with pg_terminate_backend, reads stay correct, and
// once they are back the memory holds every change made meanwhile.
class CatalogueCache : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = NewDatabaseUrl("cache");
    for (auto* p : {&a_, &b_}) {
      *p = std::make_unique<ServiceProcess>(
          ECD_CATALOGUE_BIN, std::map<std::string, std::string>{{"ECD_PG_URL", db_},
                                                                {"ECD_HEALTH_INTERVAL_MS", "50"}});
    }
    for (auto* p : {&a_, &b_}) {
      ASSERT_TRUE((*p)->WaitHealth("SERVING", std::chrono::seconds(30), "catalogue_cache"))
          << (*p)->process().Log();
    }
    sa_ = StubFor(a_->address());
    sb_ = StubFor(b_->address());
  }

  v1::Event Get(v1::CatalogueService::Stub& stub, const std::string& name, const std::string& token,
                grpc::Status* status = nullptr) {
    v1::GetEventRequest req;
    req.set_name(name);
    v1::GetEventResponse resp;
    grpc::Status st = stub.GetEvent(Ctx(token).get(), req, &resp);
    if (status != nullptr) *status = st;
    return resp.event();
  }

  std::vector<v1::Event> List(v1::CatalogueService::Stub& stub, const std::string& token) {
    std::vector<v1::Event> out;
    v1::ListEventsRequest req;
    req.set_page_size(3);  // several pages: the keyset paging from memory
    for (;;) {
      v1::ListEventsResponse resp;
      auto st = stub.ListEvents(Ctx(token).get(), req, &resp);
      EXPECT_TRUE(st.ok()) << st.error_message();
      out.insert(out.end(), resp.events().begin(), resp.events().end());
      if (!st.ok() || resp.next_page_token().empty()) return out;
      req.set_page_token(resp.next_page_token());
    }
  }

  // Polls until `pred` holds for B's answer; the time it took.
  std::optional<std::chrono::milliseconds> Until(
      const std::function<bool()>& pred, std::chrono::seconds limit = std::chrono::seconds(5)) {
    const auto start = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - start < limit) {
      if (pred()) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - start);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return std::nullopt;
  }

  v1::Event Create(const std::string& title, int day) {
    v1::CreateEventRequest req;
    *req.mutable_event() = NewEvent(title);
    *req.mutable_event()->mutable_start_time() =
        T("2026-04-" + std::string(day < 10 ? "0" : "") + std::to_string(day) + "T08:00:00Z");
    *req.mutable_event()->mutable_end_time() =
        T("2026-04-" + std::string(day < 10 ? "0" : "") + std::to_string(day) + "T09:45:00Z");
    v1::CreateEventResponse resp;
    auto st = sa_->CreateEvent(Ctx(TestTokens().admin).get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.event();
  }

  v1::Event Retitle(const std::string& name, const std::string& title) {
    v1::UpdateEventRequest req;
    req.mutable_event()->set_name(name);
    req.mutable_event()->set_title(title);
    req.mutable_update_mask()->add_paths("title");
    v1::UpdateEventResponse resp;
    auto st = sa_->UpdateEvent(Ctx(TestTokens().admin).get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.event();
  }

  // What PostgreSQL holds: "id revision title" per event, in start order.
  std::vector<std::string> Database() {
    pqxx::connection conn(db_);
    pqxx::nontransaction tx(conn);
    std::vector<std::string> out;
    for (const auto& r : tx.exec("SELECT 'events/' || id, revision, title FROM catalogue.events"
                                 " ORDER BY start_time, id")) {
      out.push_back(r[0].as<std::string>() + " " + r[1].as<std::string>() + " " +
                    r[2].as<std::string>());
    }
    return out;
  }
  static std::vector<std::string> Lines(const std::vector<v1::Event>& events) {
    std::vector<std::string> out;
    for (const auto& e : events) {
      out.push_back(e.name() + " " + std::to_string(e.revision()) + " " + e.title());
    }
    return out;
  }

  std::string db_;
  std::unique_ptr<ServiceProcess> a_, b_;
  std::unique_ptr<v1::CatalogueService::Stub> sa_, sb_;
};

TEST_F(CatalogueCache, AWriteOnOneReplicaIsReadOnTheOther) {
  const v1::Event e = Create("Coherence", 1);
  std::vector<int64_t> lags;
  for (int i = 1; i <= 20; ++i) {
    const std::string title = "Coherence " + std::to_string(i);
    const v1::Event updated = Retitle(e.name(), title);
    // The writer reads its own write at once.
    EXPECT_EQ(Get(*sa_, e.name(), TestTokens().admin).title(), title);
    auto lag = Until([&] {
      const v1::Event seen = Get(*sb_, e.name(), TestTokens().admin);
      EXPECT_LE(seen.revision(), updated.revision());
      return seen.revision() == updated.revision() && seen.title() == title;
    });
    ASSERT_TRUE(lag.has_value()) << "replica B never saw revision " << updated.revision();
    lags.push_back(lag->count());
  }
  std::sort(lags.begin(), lags.end());
  std::cout << "[ measure  ] a write on A visible on B after (ms): median " << lags[lags.size() / 2]
            << ", max " << lags.back() << " over " << lags.size() << " writes\n";
  EXPECT_EQ(Lines(List(*sb_, TestTokens().admin)), Database());
}

TEST_F(CatalogueCache, DraftsJoinUrlsAndDraftMaterialsNeverReachAFrontend) {
  const v1::Event published = Create("Published", 2);
  v1::PublishEventRequest pub;
  pub.set_name(published.name());
  v1::PublishEventResponse done;
  ASSERT_TRUE(sa_->PublishEvent(Ctx(TestTokens().admin).get(), pub, &done).ok());
  const v1::Event draft = Create("Draft", 3);
  for (const auto& name : {published.name(), draft.name()}) {
    v1::AddMaterialRequest add;
    add.set_parent(name);
    add.mutable_material()->set_title("Agenda");
    add.mutable_material()->set_kind(v1::MATERIAL_KIND_FACT_SHEET);
    add.mutable_material()->set_filename("agenda.txt");
    add.mutable_material()->set_content_type("text/plain");
    add.set_content("08:00 Opening");
    v1::AddMaterialResponse added;
    auto st = sa_->AddMaterial(Ctx(TestTokens().admin).get(), add, &added);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }
  // B has both from memory: an admin sees them.
  ASSERT_TRUE(Until([&] {
    v1::ListMaterialsRequest req;
    req.set_parent(draft.name());
    v1::ListMaterialsResponse resp;
    return sb_->ListMaterials(Ctx(TestTokens().admin).get(), req, &resp).ok() &&
           resp.materials_size() == 1 &&
           Get(*sb_, published.name(), TestTokens().admin).status() == v1::EVENT_STATUS_PUBLISHED;
  }));
  ASSERT_EQ(b_->HealthStatus("catalogue_cache"), "SERVING");
  EXPECT_EQ(Get(*sb_, published.name(), TestTokens().admin).join_url(), "https://zoom.us/j/123456");
  for (const std::string& token : {TestTokens().frontend, TestTokens().integration}) {
    grpc::Status st;
    EXPECT_TRUE(Get(*sb_, published.name(), token, &st).join_url().empty());
    EXPECT_TRUE(st.ok()) << st.error_message();
    Get(*sb_, draft.name(), token, &st);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
    for (const auto& e : List(*sb_, token)) {
      EXPECT_NE(e.name(), draft.name());
      EXPECT_NE(e.status(), v1::EVENT_STATUS_DRAFT);
      EXPECT_TRUE(e.join_url().empty());
    }
  }
  v1::ListMaterialsRequest req;
  req.set_parent(draft.name());
  v1::ListMaterialsResponse resp;
  EXPECT_EQ(sb_->ListMaterials(Ctx(TestTokens().frontend).get(), req, &resp).error_code(),
            grpc::StatusCode::NOT_FOUND);
  req.set_parent(published.name());
  ASSERT_TRUE(sb_->ListMaterials(Ctx(TestTokens().frontend).get(), req, &resp).ok());
  EXPECT_EQ(resp.materials_size(), 1);
}

TEST_F(CatalogueCache, CutListenersReadCorrectlyAndCatchUpOnReturn) {
  v1::Event kept = Create("Before the cut", 4);
  const v1::Event doomed = Create("Deleted during the cut", 5);
  ASSERT_TRUE(Until([&] { return Lines(List(*sb_, TestTokens().admin)) == Database(); }));
  // For two seconds every listening session is terminated as soon as it shows.
  std::atomic<bool> cutting{true};
  std::atomic<int> cut{0};
  std::thread cutter([&] {
    pqxx::connection conn(db_);
    pqxx::nontransaction tx(conn);
    while (cutting) {
      cut += tx.exec(
                   "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE"
                   " application_name = 'ecd-catalogue-listener'")[0][0]
                 .as<int>();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  // Changes meanwhile: each is read correctly on B (from PostgreSQL while B's copy is dropped).
  kept = Retitle(kept.name(), "Changed during the cut");
  ASSERT_TRUE(Until([&] {
    return Get(*sb_, kept.name(), TestTokens().admin).title() == "Changed during the cut";
  }));
  const v1::Event born = Create("Created during the cut", 6);
  ASSERT_TRUE(Until([&] {
    grpc::Status st;
    Get(*sb_, born.name(), TestTokens().admin, &st);
    return st.ok();
  }));
  v1::DeleteEventRequest del;
  del.set_name(doomed.name());
  v1::DeleteEventResponse deleted;
  ASSERT_TRUE(sa_->DeleteEvent(Ctx(TestTokens().admin).get(), del, &deleted).ok());
  ASSERT_TRUE(Until([&] {
    grpc::Status st;
    Get(*sb_, doomed.name(), TestTokens().admin, &st);
    return st.error_code() == grpc::StatusCode::NOT_FOUND;
  }));
  EXPECT_EQ(Lines(List(*sb_, TestTokens().admin)), Database());
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  // A change in the last instant of the cut, when the listeners may be down.
  kept = Retitle(kept.name(), "Changed at the end of the cut");
  cutting = false;
  cutter.join();
  EXPECT_GE(cut.load(), 2) << "the listening sessions were never cut";
  // Back: each replica loads everything again and answers from memory, with every change.
  for (auto* p : {&a_, &b_}) {
    ASSERT_TRUE((*p)->WaitHealth("SERVING", std::chrono::seconds(10), "catalogue_cache"));
    EXPECT_NE((*p)->process().Log().find("catalogue listener: lost the database"),
              std::string::npos);
  }
  EXPECT_EQ(Get(*sb_, kept.name(), TestTokens().admin).title(), "Changed at the end of the cut");
  EXPECT_EQ(Lines(List(*sb_, TestTokens().admin)), Database());
  EXPECT_EQ(Lines(List(*sa_, TestTokens().admin)), Database());
  // And it follows changes again.
  kept = Retitle(kept.name(), "After the cut");
  EXPECT_TRUE(
      Until([&] { return Get(*sb_, kept.name(), TestTokens().admin).title() == "After the cut"; }));
}

}  // namespace
}  // namespace ecd::test
