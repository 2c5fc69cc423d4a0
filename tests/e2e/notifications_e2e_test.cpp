// End to end: catalogue, registration (with its outbox relay) and notifications binaries, a real
// PostgreSQL and Redis, and a real SMTP server (tests/e2e/smtp_sink.py, Debian's aiosmtpd) that
// keeps every message it accepts.
#include <dirent.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <libical/ical.h>
#include <signal.h>

#include <fstream>
#include <map>
#include <pqxx/pqxx>
#include <random>
#include <sstream>
#include <thread>

#include "common/crypto.hpp"
#include "ecd/catalogue/v1/catalogue.grpc.pb.h"
#include "ecd/certificates/v1/certificates.grpc.pb.h"
#include "ecd/notifications/v1/notifications.grpc.pb.h"
#include "ecd/registration/v1/registration.grpc.pb.h"
#include "services/certificates/signing.hpp"
#include "tests/harness/grpc_client.hpp"
#include "tests/harness/harness.hpp"

namespace ecd::test {
namespace {

namespace cat = ::ecd::catalogue::v1;
namespace reg = ::ecd::registration::v1;
namespace nv1 = ::ecd::notifications::v1;
using google::protobuf::util::TimeUtil;
using Clock = std::chrono::steady_clock;

struct Mail {
  std::string to, subject, text, ics, ics_type, message_id;
  std::vector<std::map<std::string, std::string>> attachments;  // filename, content_type, sha256
};

// The SMTP server of the test: it can stop and start again on the same port.
class SmtpSink {
 public:
  SmtpSink() : port_(FreePort()), dir_(TempDir() + "/mail") { Start(); }
  ~SmtpSink() { Stop(); }
  int port() const { return port_; }
  void Start() {
    proc_ = std::make_unique<Subprocess>(
        std::vector<std::string>{"/usr/bin/python3", ECD_SOURCE_DIR "/tests/e2e/smtp_sink.py",
                                 std::to_string(port_), dir_},
        std::map<std::string, std::string>{}, TempDir() + "/smtp.log");
    for (int i = 0; i < 200; ++i) {
      if (proc_->Log().find("listening") != std::string::npos) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    throw std::runtime_error("smtp sink did not start: " + proc_->Log());
  }
  void Stop() {
    if (!proc_) return;
    proc_->Signal(SIGKILL);
    proc_->WaitExit(std::chrono::seconds(10));
    proc_.reset();
  }
  std::vector<Mail> Mails() const {
    std::vector<Mail> out;
    DIR* d = opendir(dir_.c_str());
    if (d == nullptr) return out;
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name.size() < 5 || name.substr(name.size() - 5) != ".json") continue;
      std::ifstream in(dir_ + "/" + name);
      std::stringstream ss;
      ss << in.rdbuf();
      google::protobuf::Struct s;
      if (!google::protobuf::util::JsonStringToMessage(ss.str(), &s).ok()) continue;
      const auto& f = s.fields();
      Mail m;
      m.to = f.at("rcpt_tos").list_value().values(0).string_value();
      m.subject = f.at("subject").string_value();
      m.text = f.at("text").string_value();
      m.ics = f.at("ics").string_value();
      m.ics_type = f.at("ics_type").string_value();
      m.message_id = f.at("message_id").string_value();
      if (f.count("attachments")) {
        for (const auto& a : f.at("attachments").list_value().values()) {
          std::map<std::string, std::string> att;
          for (const auto& [k, v] : a.struct_value().fields()) {
            att[k] = v.has_string_value() ? v.string_value() : std::to_string(v.number_value());
          }
          m.attachments.push_back(att);
        }
      }
      out.push_back(m);
    }
    closedir(d);
    return out;
  }
  std::vector<Mail> MailsTo(const std::string& address) const {
    std::vector<Mail> out;
    for (auto& m : Mails()) {
      if (m.to == address) out.push_back(m);
    }
    return out;
  }
  // Waits until `predicate` holds for the mails (bounded), returns whether it did.
  bool WaitFor(const std::function<bool(const std::vector<Mail>&)>& predicate,
               std::chrono::seconds timeout = std::chrono::seconds(60)) const {
    auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      if (predicate(Mails())) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return predicate(Mails());
  }

 private:
  int port_;
  std::string dir_;
  std::unique_ptr<Subprocess> proc_;
};

class Stack {
 public:
  Stack() : redis_(std::make_unique<RedisServer>()), db_(NewDatabaseUrl("notif")) {
    catalogue_ = std::make_unique<ServiceProcess>(
        ECD_CATALOGUE_BIN, std::map<std::string, std::string>{{"ECD_PG_URL", db_}});
    notifications_ = StartNotifications();
    registration_ = StartRegistration(true);
    for (auto* p : {catalogue_.get(), notifications_.get(), registration_.get()}) {
      if (!p->WaitHealth("SERVING", std::chrono::seconds(30))) {
        throw std::runtime_error("service did not start: " + p->process().Log());
      }
    }
    catalogue_stub_ = cat::CatalogueService::NewStub(
        grpc::CreateChannel(catalogue_->address(), grpc::InsecureChannelCredentials()));
    registration_stub_ = reg::RegistrationService::NewStub(
        grpc::CreateChannel(registration_->address(), grpc::InsecureChannelCredentials()));
    notifications_stub_ = nv1::NotificationService::NewStub(
        grpc::CreateChannel(notifications_->address(), grpc::InsecureChannelCredentials()));
  }

  std::unique_ptr<ServiceProcess> StartNotifications() {
    return std::make_unique<ServiceProcess>(
        ECD_NOTIFICATIONS_BIN,
        std::map<std::string, std::string>{
            {"ECD_PG_URL", db_},
            {"ECD_CATALOGUE_ADDRESS", catalogue_->address()},
            {"ECD_SERVICE_TOKEN", TestTokens().service},
            {"ECD_SMTP_URL", "smtp://127.0.0.1:" + std::to_string(smtp_.port())},
            {"ECD_SMTP_RETRY_BASE_MS", "200"},
            {"ECD_SMTP_RETRY_MAX_MS", "1000"},
            {"ECD_SMTP_MAX_ATTEMPTS", "50"},
            {"ECD_SMTP_TIMEOUT_MS", "3000"},
            {"ECD_CATALOGUE_CACHE_MS", "0"},
            {"ECD_PLANNER_INTERVAL_MS", "200"}});
  }
  std::unique_ptr<ServiceProcess> StartRegistration(bool relay, const std::string& batch = "50") {
    return std::make_unique<ServiceProcess>(
        ECD_REGISTRATION_BIN,
        std::map<std::string, std::string>{
            {"ECD_PG_URL", db_},
            {"ECD_REDIS_ADDRESS", "127.0.0.1:" + std::to_string(redis_->port())},
            {"ECD_CATALOGUE_ADDRESS", catalogue_->address()},
            {"ECD_NOTIFICATIONS_ADDRESS", relay ? notifications_->address() : "off"},
            {"ECD_RELAY_BATCH", batch},
            {"ECD_SERVICE_TOKEN", TestTokens().service},
            {"ECD_CANCEL_TOKEN_SECRET", "test-cancel-token-secret"},
            {"ECD_CATALOGUE_CACHE_MS", "0"}});
  }

  std::string CreateEvent(const std::vector<std::string>& countries, int limit,
                          std::chrono::seconds starts_in = std::chrono::hours(24 * 20)) {
    cat::CreateEventRequest req;
    auto* e = req.mutable_event();
    e->set_title("Webinaire avec les pays de l'Afrique");
    e->set_region(cat::REGION_AFRICA);
    e->set_language_code("fr");
    *e->mutable_start_time() = In(starts_in);
    *e->mutable_end_time() = In(starts_in + std::chrono::minutes(105));
    e->set_duration_minutes(100);
    e->set_platform("Zoom");
    e->set_join_url("https://zoom.us/j/987654321");
    for (const auto& c : countries) e->add_invited_countries(c);
    e->set_participants_per_country(limit);
    cat::CreateEventResponse resp;
    auto st = catalogue_stub_->CreateEvent(Ctx(TestTokens().admin).get(), req, &resp);
    if (!st.ok()) throw std::runtime_error(st.error_message());
    cat::PublishEventRequest pub;
    pub.set_name(resp.event().name());
    cat::PublishEventResponse published;
    st = catalogue_stub_->PublishEvent(Ctx(TestTokens().admin).get(), pub, &published);
    if (!st.ok()) throw std::runtime_error(st.error_message());
    return resp.event().name();
  }

  reg::RegisterResponse Register(reg::RegistrationService::Stub& stub, const std::string& event,
                                 const std::string& email, const std::string& language,
                                 const std::string& request_id = "") {
    reg::RegisterRequest req;
    req.set_event(event);
    req.set_request_id(request_id.empty() ? "n-" + NewUuid() : request_id);
    auto* p = req.mutable_participant();
    p->set_given_name("Zoë");
    p->set_family_name("Ñúñez-Çelik");
    p->set_email(email);
    p->set_country_code("SN");
    p->set_affiliation(reg::AFFILIATION_MINISTRY_OF_JUSTICE);
    p->set_preferred_language(language);
    p->set_time_zone("Africa/Dakar");
    p->set_privacy_consent(true);
    reg::RegisterResponse resp;
    auto st = stub.Register(Ctx(TestTokens().frontend).get(), req, &resp);
    if (!st.ok()) throw std::runtime_error("Register: " + st.error_message());
    return resp;
  }

  cat::CatalogueService::Stub& catalogue() { return *catalogue_stub_; }
  std::string catalogue_address() const { return catalogue_->address(); }
  std::string registration_address() const { return registration_->address(); }
  SmtpSink& smtp() { return smtp_; }
  RedisServer& redis() { return *redis_; }
  reg::RegistrationService::Stub& registration() { return *registration_stub_; }
  nv1::NotificationService::Stub& notifications() { return *notifications_stub_; }
  const std::string& db() const { return db_; }
  std::string notifications_address() const { return notifications_->address(); }
  // Stops the suite's own registration process, and with it its relay.
  void StopMainRegistration() { registration_.reset(); }

 private:
  SmtpSink smtp_;
  std::unique_ptr<RedisServer> redis_;
  std::string db_;
  std::unique_ptr<ServiceProcess> catalogue_, notifications_, registration_;
  std::unique_ptr<cat::CatalogueService::Stub> catalogue_stub_;
  std::unique_ptr<reg::RegistrationService::Stub> registration_stub_;
  std::unique_ptr<nv1::NotificationService::Stub> notifications_stub_;
};

// The iCalendar attachment, parsed with libical.
struct ParsedIcs {
  std::string method, uid, status;
  int sequence = -1;
  bool has_alarm = false;
  std::string dtstart;
};
ParsedIcs ParseIcs(const std::string& text) {
  ParsedIcs out;
  icalcomponent* cal = icalparser_parse_string(text.c_str());
  if (cal == nullptr) return out;
  if (icalproperty* m = icalcomponent_get_first_property(cal, ICAL_METHOD_PROPERTY)) {
    out.method = icalproperty_method_to_string(icalproperty_get_method(m));
  }
  icalcomponent* ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
  if (ev != nullptr) {
    out.uid = icalcomponent_get_uid(ev) ? icalcomponent_get_uid(ev) : "";
    out.sequence = icalcomponent_get_sequence(ev);
    out.has_alarm = icalcomponent_get_first_component(ev, ICAL_VALARM_COMPONENT) != nullptr;
    out.dtstart = icaltime_as_ical_string(icalcomponent_get_dtstart(ev));
    if (icalproperty* s = icalcomponent_get_first_property(ev, ICAL_STATUS_PROPERTY)) {
      out.status = icalproperty_status_to_string(icalproperty_get_status(s));
    }
  }
  icalcomponent_free(cal);
  return out;
}

std::string IdOf(const std::string& name) { return name.substr(name.rfind('/') + 1); }

class NotificationsE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { stack_ = new Stack(); }
  static void TearDownTestSuite() { delete stack_; }
  Stack& s() { return *stack_; }
  static Stack* stack_;
};
Stack* NotificationsE2E::stack_ = nullptr;

TEST_F(NotificationsE2E, ConfirmationInTheParticipantsLanguageWithAnInvitation) {
  const std::string event = s().CreateEvent({"SN"}, 4);
  auto r = s().Register(s().registration(), event, "confirm.fr@justice.sn", "fr");
  ASSERT_TRUE(s().smtp().WaitFor([](const auto& mails) {
    for (const auto& m : mails) {
      if (m.to == "confirm.fr@justice.sn") return true;
    }
    return false;
  })) << "no confirmation arrived";
  auto mails = s().smtp().MailsTo("confirm.fr@justice.sn");
  ASSERT_EQ(mails.size(), 1u);
  // What the service says it sends, rendered for this registration in French.
  nv1::PreviewMessageRequest preview;
  preview.set_registration(r.registration().name());
  preview.set_kind("confirmed");
  nv1::PreviewMessageResponse expected;
  auto st = s().notifications().PreviewMessage(Ctx(TestTokens().admin).get(), preview, &expected);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(mails[0].subject, expected.subject());
  EXPECT_NE(mails[0].text.find("Zoë"), std::string::npos) << mails[0].text;
  EXPECT_NE(mails[0].text.find("https://zoom.us/j/987654321"), std::string::npos);
  EXPECT_NE(mails[0].text.find("Africa/Dakar"), std::string::npos) << "local time shown";
  auto ics = ParseIcs(mails[0].ics);
  EXPECT_EQ(ics.method, "REQUEST");
  EXPECT_EQ(ics.uid, IdOf(r.registration().name()) + "@events.ecd");
  EXPECT_TRUE(ics.has_alarm);
  EXPECT_GE(ics.sequence, 1);
  EXPECT_NE(mails[0].ics_type.find("method="), std::string::npos) << mails[0].ics_type;
  EXPECT_NE(mails[0].ics_type.find("REQUEST"), std::string::npos) << mails[0].ics_type;
  // The message is visible through the API as sent.
  nv1::ListMessagesRequest list;
  list.set_registration(r.registration().name());
  nv1::ListMessagesResponse listed;
  ASSERT_TRUE(s().notifications().ListMessages(Ctx(TestTokens().admin).get(), list, &listed).ok());
  ASSERT_EQ(listed.messages_size(), 1);
  EXPECT_EQ(listed.messages(0).kind(), "confirmed");
  EXPECT_EQ(listed.messages(0).language(), "fr");
  EXPECT_EQ(listed.messages(0).message_id_header(), mails[0].message_id);
}

TEST_F(NotificationsE2E, WaitlistPromotionAndCancellationEachGetTheirMessage) {
  const std::string event = s().CreateEvent({"SN"}, 1);
  auto a = s().Register(s().registration(), event, "first@justice.sn", "en");
  auto b = s().Register(s().registration(), event, "second@justice.sn", "es");
  ASSERT_EQ(b.registration().status(), reg::REGISTRATION_STATUS_WAITLISTED);
  reg::CancelRegistrationRequest cancel;
  cancel.set_name(a.registration().name());
  cancel.set_cancellation_token(a.cancellation_token());
  reg::CancelRegistrationResponse cancelled;
  ASSERT_TRUE(s().registration()
                  .CancelRegistration(Ctx(TestTokens().frontend).get(), cancel, &cancelled)
                  .ok());
  ASSERT_TRUE(s().smtp().WaitFor([](const auto& mails) {
    int first = 0, second = 0;
    for (const auto& m : mails) {
      first += m.to == "first@justice.sn";
      second += m.to == "second@justice.sn";
    }
    return first == 2 && second == 2;
  })) << "expected confirmation + cancellation, and waitlisted + promoted";
  auto first = s().smtp().MailsTo("first@justice.sn");
  int requests = 0, cancels = 0;
  for (const auto& m : first) {
    auto ics = ParseIcs(m.ics);
    requests += ics.method == "REQUEST";
    if (ics.method == "CANCEL") {
      ++cancels;
      EXPECT_EQ(ics.status, "CANCELLED");
      EXPECT_EQ(ics.uid, IdOf(a.registration().name()) + "@events.ecd");
    }
  }
  EXPECT_EQ(requests, 1);
  EXPECT_EQ(cancels, 1);
  auto second = s().smtp().MailsTo("second@justice.sn");
  int with_invitation = 0;
  for (const auto& m : second) with_invitation += ParseIcs(m.ics).method == "REQUEST";
  EXPECT_EQ(with_invitation, 1) << "the promotion carries the invitation, the waitlisting not";
}

TEST_F(NotificationsE2E, SmtpDownMessagesWaitAndAllArriveOnceBack) {
  const std::string event = s().CreateEvent({"SN"}, 10);
  s().smtp().Stop();
  std::vector<std::string> emails;
  for (int i = 0; i < 3; ++i) {
    emails.push_back("down" + std::to_string(i) + "@justice.sn");
    s().Register(s().registration(), event, emails.back(), "en");
  }
  // Wait until each has failed at least once.
  auto deadline = Clock::now() + std::chrono::seconds(30);
  int failed = 0;
  while (Clock::now() < deadline && failed < 3) {
    nv1::ListMessagesRequest list;
    list.set_event(event);
    list.set_state(nv1::MESSAGE_STATE_PENDING);
    nv1::ListMessagesResponse resp;
    ASSERT_TRUE(s().notifications().ListMessages(Ctx(TestTokens().admin).get(), list, &resp).ok());
    failed = 0;
    for (const auto& m : resp.messages()) failed += m.attempts() >= 1 && !m.last_error().empty();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(failed, 3) << "messages did not retry while SMTP was down";
  s().smtp().Start();
  ASSERT_TRUE(s().smtp().WaitFor([&](const auto& mails) {
    int n = 0;
    for (const auto& m : mails) n += m.to.rfind("down", 0) == 0;
    return n >= 3;
  }));
  std::this_thread::sleep_for(std::chrono::seconds(2));  // would a duplicate follow?
  for (const auto& e : emails) EXPECT_EQ(s().smtp().MailsTo(e).size(), 1u) << e;
}

TEST_F(NotificationsE2E, PermanentlyFailingAddressIsDeadLettered) {
  const std::string event = s().CreateEvent({"SN"}, 4);
  auto r = s().Register(s().registration(), event, "reject.me@justice.sn", "en");
  nv1::ListMessagesRequest list;
  list.set_registration(r.registration().name());
  list.set_state(nv1::MESSAGE_STATE_DEAD);
  nv1::ListMessagesResponse resp;
  auto deadline = Clock::now() + std::chrono::seconds(30);
  while (Clock::now() < deadline) {
    ASSERT_TRUE(s().notifications().ListMessages(Ctx(TestTokens().admin).get(), list, &resp).ok());
    if (resp.messages_size() == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(resp.messages_size(), 1) << "not dead-lettered";
  EXPECT_NE(resp.messages(0).last_error().find("550"), std::string::npos)
      << resp.messages(0).last_error();
  EXPECT_TRUE(s().smtp().MailsTo("reject.me@justice.sn").empty());
}

// The information kit and the reminders, planned from the catalogue, sent once each with two
// notification processes running; moving the event sends an updated invitation and re-plans.
TEST_F(NotificationsE2E, KitAndRemindersOnceEachAndMovingReplans) {
  auto second = s().StartNotifications();
  ASSERT_TRUE(second->WaitHealth("SERVING", std::chrono::seconds(30)));
  const std::string event = s().CreateEvent({"SN"}, 10, std::chrono::hours(2));
  cat::AddMaterialRequest add;
  add.set_parent(event);
  add.mutable_material()->set_kind(cat::MATERIAL_KIND_FACT_SHEET);
  add.mutable_material()->set_title("Fiche d'information");
  add.mutable_material()->set_external_uri("https://www.eucyberdirect.eu/kit/fact-sheet.pdf");
  cat::AddMaterialResponse added;
  ASSERT_TRUE(s().catalogue().AddMaterial(Ctx(TestTokens().admin).get(), add, &added).ok());
  const std::vector<std::string> people = {"kit0@justice.sn", "kit1@justice.sn"};
  std::vector<std::string> registrations;
  for (const auto& email : people) {
    registrations.push_back(
        s().Register(s().registration(), event, email, "fr").registration().name());
  }
  auto kinds_of = [&](const std::string& registration) {
    nv1::ListMessagesRequest list;
    list.set_registration(registration);
    list.set_page_size(100);
    nv1::ListMessagesResponse resp;
    EXPECT_TRUE(s().notifications().ListMessages(Ctx(TestTokens().admin).get(), list, &resp).ok());
    std::map<std::string, int> kinds;
    for (const auto& m : resp.messages()) ++kinds[m.kind()];
    return kinds;
  };
  // Two hours ahead: the kit (72 h lead) and the 24-hour reminder are due, the 1-hour one not.
  ASSERT_TRUE(s().smtp().WaitFor([&](const auto&) {
    for (const auto& r : registrations) {
      auto k = kinds_of(r);
      if (k["info_kit"] != 1 || k["reminder_24h"] != 1) return false;
    }
    return true;
  })) << "kit and 24-hour reminder not queued";
  EXPECT_EQ(kinds_of(registrations[0]).count("reminder_1h"), 0u);

  // Move it to 30 minutes from now: an updated invitation, and the 1-hour reminder.
  cat::UpdateEventRequest upd;
  upd.mutable_event()->set_name(event);
  *upd.mutable_event()->mutable_start_time() = In(std::chrono::minutes(30));
  *upd.mutable_event()->mutable_end_time() = In(std::chrono::minutes(135));
  upd.mutable_update_mask()->add_paths("start_time");
  upd.mutable_update_mask()->add_paths("end_time");
  cat::UpdateEventResponse moved;
  ASSERT_TRUE(s().catalogue().UpdateEvent(Ctx(TestTokens().admin).get(), upd, &moved).ok());
  ASSERT_TRUE(s().smtp().WaitFor([&](const auto& mails) {
    for (const auto& email : people) {
      int n = 0;
      for (const auto& m : mails) n += m.to == email;
      if (n < 5) return false;  // confirmed, kit, 24 h, changed, 1 h
    }
    return true;
  })) << "updated invitation or 1-hour reminder missing";
  std::this_thread::sleep_for(std::chrono::seconds(2));  // would a duplicate follow?
  for (size_t i = 0; i < people.size(); ++i) {
    auto k = kinds_of(registrations[i]);
    EXPECT_EQ(k["confirmed"], 1);
    EXPECT_EQ(k["info_kit"], 1);
    EXPECT_EQ(k["reminder_24h"], 1);
    EXPECT_EQ(k["event_changed"], 1);
    EXPECT_EQ(k["reminder_1h"], 1);
    auto mails = s().smtp().MailsTo(people[i]);
    EXPECT_EQ(mails.size(), 5u) << people[i];
    bool kit_lists_material = false;
    for (const auto& m : mails) {
      if (m.text.find("https://www.eucyberdirect.eu/kit/fact-sheet.pdf") != std::string::npos) {
        kit_lists_material = true;
      }
    }
    // The invitations as the service sent them, by kind.
    nv1::ListMessagesRequest list;
    list.set_registration(registrations[i]);
    nv1::ListMessagesResponse sent;
    ASSERT_TRUE(s().notifications().ListMessages(Ctx(TestTokens().admin).get(), list, &sent).ok());
    int confirmed_seq = -1, changed_seq = -1;
    for (const auto& m : sent.messages()) {
      EXPECT_EQ(m.state(), nv1::MESSAGE_STATE_SENT) << m.kind();
      if (m.kind() == "confirmed") confirmed_seq = ParseIcs(m.icalendar()).sequence;
      if (m.kind() == "event_changed") changed_seq = ParseIcs(m.icalendar()).sequence;
    }
    EXPECT_GE(confirmed_seq, 1);
    EXPECT_GT(changed_seq, confirmed_seq) << "the updated invitation outranks the first";
    EXPECT_TRUE(kit_lists_material);
  }
}

// A certificate is mailed to the participant with its PDF attached, once.
TEST_F(NotificationsE2E, CertificateArrivesWithThePdfAttached) {
  std::string dir = TempDir();
  std::ofstream(dir + "/key.pem") << ecd::certificates::Keyring::GeneratePrivateKeyPem();
  ServiceProcess certs(ECD_CERTIFICATES_BIN,
                       {{"ECD_PG_URL", s().db()},
                        {"ECD_CATALOGUE_ADDRESS", s().catalogue_address()},
                        {"ECD_REGISTRATION_ADDRESS", s().registration_address()},
                        {"ECD_NOTIFICATIONS_ADDRESS", s().notifications_address()},
                        {"ECD_COURIER_INTERVAL_MS", "200"},
                        {"ECD_CATALOGUE_CACHE_MS", "0"},
                        {"ECD_SERVICE_TOKEN", TestTokens().service},
                        {"ECD_SIGNING_KEY_FILE", dir + "/key.pem"}});
  ASSERT_TRUE(certs.WaitHealth("SERVING", std::chrono::seconds(30))) << certs.process().Log();
  const std::string event = s().CreateEvent({"SN"}, 4, std::chrono::hours(48));
  auto r = s().Register(s().registration(), event, "certified@justice.sn", "es");
  // The webinar took place (attendance and completion need it to be over).
  ASSERT_TRUE(
      MoveSlot(s().catalogue(), TestTokens().admin, event, "2020-07-22T15:00:00Z", 105).ok());
  reg::ImportAttendanceRequest att;
  att.set_event(event);
  att.set_report_csv(
      "Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes)\n"
      "Z,certified@justice.sn,2020-07-22 15:00:00,2020-07-22 16:40:00,100\n");
  reg::ImportAttendanceResponse att_resp;
  ASSERT_TRUE(
      s().registration().ImportAttendance(Ctx(TestTokens().admin).get(), att, &att_resp).ok());
  cat::CompleteEventRequest complete;
  complete.set_name(event);
  cat::CompleteEventResponse completed;
  ASSERT_TRUE(
      s().catalogue().CompleteEvent(Ctx(TestTokens().admin).get(), complete, &completed).ok());
  auto stub = ecd::certificates::v1::CertificateService::NewStub(
      grpc::CreateChannel(certs.address(), grpc::InsecureChannelCredentials()));
  ecd::certificates::v1::RequestCertificateRequest req;
  req.set_registration(r.registration().name());
  ecd::certificates::v1::RequestCertificateResponse cert;
  auto st = stub->RequestCertificate(Ctx(TestTokens().frontend).get(), req, &cert);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_TRUE(s().smtp().WaitFor([](const auto& mails) {
    for (const auto& m : mails) {
      if (m.to == "certified@justice.sn" && !m.attachments.empty()) return true;
    }
    return false;
  })) << "no certificate mail";
  std::this_thread::sleep_for(std::chrono::seconds(1));  // would a duplicate follow?
  int with_pdf = 0;
  for (const auto& m : s().smtp().MailsTo("certified@justice.sn")) {
    for (const auto& a : m.attachments) {
      if (a.at("content_type") != "application/pdf") continue;
      ++with_pdf;
      EXPECT_EQ(a.at("sha256"), cert.certificate().pdf_sha256());
      EXPECT_NE(m.text.find(cert.certificate().facts().serial()), std::string::npos) << m.text;
    }
  }
  EXPECT_EQ(with_pdf, 1);
}

// An announcement reaches every confirmed participant once (the same request id again sends
// nothing more); a message can be sent again on request.
TEST_F(NotificationsE2E, AnnouncementOnceToConfirmedAndResendOnRequest) {
  const std::string event = s().CreateEvent({"SN"}, 2);
  auto a = s().Register(s().registration(), event, "ann.a@justice.sn", "fr");
  auto b = s().Register(s().registration(), event, "ann.b@justice.sn", "es");
  auto w = s().Register(s().registration(), event, "ann.wait@justice.sn", "en");
  ASSERT_EQ(w.registration().status(), reg::REGISTRATION_STATUS_WAITLISTED);
  // The relay must have told notifications who is confirmed.
  ASSERT_TRUE(s().smtp().WaitFor([](const auto& mails) {
    int n = 0;
    for (const auto& m : mails) n += m.to.rfind("ann.", 0) == 0;
    return n >= 3;
  }));
  nv1::SendAnnouncementRequest ann;
  ann.set_event(event);
  ann.set_text("Le webinaire commencera avec quinze minutes de retard.");
  ann.set_request_id("ann-" + NewUuid());
  for (int i = 0; i < 2; ++i) {
    nv1::SendAnnouncementResponse resp;
    auto st = s().notifications().SendAnnouncement(Ctx(TestTokens().admin).get(), ann, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(resp.recipients(), 2);
  }
  auto count = [&](const std::string& to, const std::string& needle) {
    int n = 0;
    for (const auto& m : s().smtp().MailsTo(to)) n += m.text.find(needle) != std::string::npos;
    return n;
  };
  const std::string text = "quinze minutes de retard";
  ASSERT_TRUE(s().smtp().WaitFor([&](const auto&) {
    return count("ann.a@justice.sn", text) == 1 && count("ann.b@justice.sn", text) == 1;
  }));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(count("ann.a@justice.sn", text), 1);
  EXPECT_EQ(count("ann.b@justice.sn", text), 1);
  EXPECT_EQ(count("ann.wait@justice.sn", text), 0) << "only confirmed participants";
  nv1::SendAnnouncementResponse denied;
  EXPECT_EQ(s().notifications()
                .SendAnnouncement(Ctx(TestTokens().service).get(), ann, &denied)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  nv1::ListMessagesRequest list;
  list.set_registration(a.registration().name());
  nv1::ListMessagesResponse listed;
  ASSERT_TRUE(s().notifications().ListMessages(Ctx(TestTokens().admin).get(), list, &listed).ok());
  std::string confirmation;
  for (const auto& m : listed.messages()) {
    if (m.kind() == "confirmed") confirmation = m.name();
  }
  ASSERT_FALSE(confirmation.empty());
  nv1::ResendMessageRequest resend;
  resend.set_name(confirmation);
  nv1::ResendMessageResponse resent;
  ASSERT_TRUE(
      s().notifications().ResendMessage(Ctx(TestTokens().admin).get(), resend, &resent).ok());
  EXPECT_NE(resent.message().name(), confirmation);
  ASSERT_TRUE(s().smtp().WaitFor([&](const auto&) {
    int confirmations = 0;
    for (const auto& m : s().smtp().MailsTo("ann.a@justice.sn")) confirmations += !m.ics.empty();
    return confirmations == 2;
  })) << "the resent confirmation did not arrive";
}

// A published recording and a cancelled event each reach the confirmed participants once; the
// cancellation withdraws the invitation (iCalendar CANCEL).
TEST_F(NotificationsE2E, RecordingPublishedAndEventCancelledAreAnnounced) {
  const std::string event = s().CreateEvent({"SN"}, 4, std::chrono::hours(24 * 5));
  auto r = s().Register(s().registration(), event, "follow@justice.sn", "en");
  ASSERT_TRUE(s().smtp().WaitFor([](const auto& mails) {
    for (const auto& m : mails) {
      if (m.to == "follow@justice.sn") return true;
    }
    return false;
  }));
  auto kinds = [&] {
    nv1::ListMessagesRequest list;
    list.set_registration(r.registration().name());
    nv1::ListMessagesResponse resp;
    EXPECT_TRUE(s().notifications().ListMessages(Ctx(TestTokens().admin).get(), list, &resp).ok());
    std::map<std::string, int> out;
    for (const auto& m : resp.messages()) ++out[m.kind()];
    return out;
  };
  // Let the planner see the event as it is before it changes.
  {
    pqxx::connection conn(s().db());
    auto seen = [&] {
      pqxx::nontransaction tx(conn);
      return tx.exec_params("SELECT count(*) FROM notifications.watched_events WHERE event_id = $1",
                            event.substr(event.find('/') + 1))[0][0]
                 .as<int>() == 1;
    };
    auto deadline = Clock::now() + std::chrono::seconds(30);
    while (!seen() && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_TRUE(seen()) << "the planner never looked at the event";
  }
  cat::UpdateEventRequest upd;
  upd.mutable_event()->set_name(event);
  upd.mutable_event()->mutable_recording()->set_state(cat::RECORDING_STATE_PUBLISHED);
  upd.mutable_event()->mutable_recording()->set_url("https://www.eucyberdirect.eu/rec/1");
  upd.mutable_update_mask()->add_paths("recording");
  cat::UpdateEventResponse updated;
  ASSERT_TRUE(s().catalogue().UpdateEvent(Ctx(TestTokens().admin).get(), upd, &updated).ok());
  ASSERT_TRUE(s().smtp().WaitFor([&](const auto&) { return kinds()["recording_published"] == 1; }))
      << "no recording_published message";
  cat::CancelEventRequest cancel;
  cancel.set_name(event);
  cat::CancelEventResponse cancelled;
  ASSERT_TRUE(s().catalogue().CancelEvent(Ctx(TestTokens().admin).get(), cancel, &cancelled).ok());
  ASSERT_TRUE(s().smtp().WaitFor([&](const auto& mails) {
    for (const auto& m : mails) {
      if (m.to == "follow@justice.sn" && ParseIcs(m.ics).method == "CANCEL") return true;
    }
    return false;
  })) << "no event_cancelled mail with a CANCEL";
  std::this_thread::sleep_for(std::chrono::seconds(1));
  auto k = kinds();
  EXPECT_EQ(k["recording_published"], 1);
  EXPECT_EQ(k["event_cancelled"], 1);
  bool url_sent = false;
  for (const auto& m : s().smtp().MailsTo("follow@justice.sn")) {
    url_sent = url_sent || m.text.find("https://www.eucyberdirect.eu/rec/1") != std::string::npos;
  }
  EXPECT_TRUE(url_sent);
}

// 500 registrations written with the relay off; then a relay process is killed with SIGKILL at
// random points and restarted until the outbox is drained, with two notification processes
// sending: every message arrives, none twice.
TEST_F(NotificationsE2E, RelayKilledAtRandomLosesNothingAndDuplicatesNothing) {
  s().StopMainRegistration();  // only the relays this test kills may deliver
  const std::string event = s().CreateEvent({"SN"}, 100);
  auto writer = s().StartRegistration(/*relay=*/false);
  ASSERT_TRUE(writer->WaitHealth("SERVING", std::chrono::seconds(30)));
  auto writer_stub = reg::RegistrationService::NewStub(
      grpc::CreateChannel(writer->address(), grpc::InsecureChannelCredentials()));
  const int n = 500;
  for (int i = 0; i < n; ++i) {
    s().Register(*writer_stub, event, "bulk" + std::to_string(i) + "@justice.sn", "en");
  }
  auto second_sender = s().StartNotifications();
  ASSERT_TRUE(second_sender->WaitHealth("SERVING", std::chrono::seconds(30)));
  pqxx::connection conn(s().db());
  auto undelivered = [&] {
    pqxx::nontransaction tx(conn);
    return tx.exec("SELECT count(*) FROM registration.outbox WHERE delivered_time IS NULL")[0][0]
        .as<int>();
  };
  std::mt19937 rng(20200709);
  int kills = 0;
  for (int round = 0; round < 200 && undelivered() > 0; ++round) {
    auto relay = s().StartRegistration(/*relay=*/true, "10");
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + rng() % 400));
    relay->process().Signal(SIGKILL);
    relay->process().WaitExit(std::chrono::seconds(10));
    ++kills;
  }
  ASSERT_EQ(undelivered(), 0) << "outbox not drained after " << kills << " kills";
  EXPECT_GE(kills, 2);
  ASSERT_TRUE(s().smtp().WaitFor(
      [&](const auto& mails) {
        int got = 0;
        for (const auto& m : mails) got += m.to.rfind("bulk", 0) == 0;
        return got >= n;
      },
      std::chrono::seconds(120)));
  std::this_thread::sleep_for(std::chrono::seconds(2));
  std::map<std::string, int> per_recipient;
  for (const auto& m : s().smtp().Mails()) {
    if (m.to.rfind("bulk", 0) == 0) ++per_recipient[m.to];
  }
  EXPECT_EQ(per_recipient.size(), static_cast<size_t>(n));
  for (const auto& [to, count] : per_recipient) EXPECT_EQ(count, 1) << to;
}

}  // namespace
}  // namespace ecd::test
