// End to end: the four real services serving their metrics, scraped by a real Prometheus
// (Debian's) with the platform's own configuration (deploy/prometheus/local-config) and alert
// rules, after registrations, a cancellation with promotion, a mail the SMTP server refuses and a
// certificate; and one W3C trace followed from a caller through registration, the catalogue call
// it makes, the outbox and the notifications service that sends the mail.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <fstream>
#include <pqxx/pqxx>
#include <regex>
#include <sstream>
#include <thread>

#include "ecd/catalogue/v1/catalogue.grpc.pb.h"
#include "ecd/certificates/v1/certificates.grpc.pb.h"
#include "ecd/registration/v1/registration.grpc.pb.h"
#include "tests/harness/grpc_client.hpp"
#include "tests/harness/harness.hpp"

namespace ecd::test {
namespace {

namespace cat = ::ecd::catalogue::v1;
namespace reg = ::ecd::registration::v1;
namespace cert = ::ecd::certificates::v1;

// The caller's trace: W3C Trace Context's own example.
constexpr char kTraceId[] = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr char kTraceparent[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The metrics port a service wrote to its ECD_METRICS_PORT_FILE.
int MetricsPort(const std::string& file) {
  for (int i = 0; i < 200; ++i) {
    std::string text = ReadAll(file);
    if (!text.empty() && text.back() == '\n') return std::stoi(text);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("no metrics port in " + file);
}

std::string Curl(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"curl", "-sS", "--max-time", "10"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = Run(argv);
  if (r.exit_code != 0) throw std::runtime_error("curl failed: " + r.out + r.err);
  return r.out;
}

reg::Participant Person(const std::string& given, const std::string& family,
                        const std::string& email, const std::string& country,
                        const std::string& tz) {
  reg::Participant p;
  p.set_given_name(given);
  p.set_family_name(family);
  p.set_email(email);
  p.set_country_code(country);
  p.set_organisation("Office of the Attorney General");
  p.set_affiliation(reg::AFFILIATION_PROSECUTION_SERVICE);
  p.set_job_title("State counsel");
  p.set_preferred_language("en");
  p.set_time_zone(tz);
  p.set_privacy_consent(true);
  return p;
}

class ObservabilityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    redis_ = std::make_unique<RedisServer>();
    db_ = NewDatabaseUrl("obs");
    dir_ = TempDir();
    // The SMTP server: takes every mail, refuses for good (550) recipients starting "reject".
    smtp_port_ = FreePort();
    smtp_ = std::make_unique<Subprocess>(
        std::vector<std::string>{"/usr/bin/python3",
                                 std::string(ECD_SOURCE_DIR) + "/tests/e2e/smtp_sink.py",
                                 std::to_string(smtp_port_), dir_ + "/mail"},
        std::map<std::string, std::string>{}, dir_ + "/smtp.log");
    for (int i = 0; i < 200 && smtp_->Log().find("listening") == std::string::npos; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    auto metrics = [this](const std::string& name) {
      return std::map<std::string, std::string>{
          {"ECD_METRICS_ADDRESS", "127.0.0.1:0"},
          {"ECD_METRICS_PORT_FILE", dir_ + "/" + name + ".metrics"},
          {"ECD_METRICS_INTERVAL_MS", "200"}};
    };
    auto with = [](std::map<std::string, std::string> a,
                   const std::map<std::string, std::string>& b) {
      a.insert(b.begin(), b.end());
      return a;
    };
    catalogue_ = std::make_unique<ServiceProcess>(
        ECD_CATALOGUE_BIN, with({{"ECD_PG_URL", db_}}, metrics("catalogue")));
    notifications_ = std::make_unique<ServiceProcess>(
        ECD_NOTIFICATIONS_BIN,
        with({{"ECD_PG_URL", db_},
              {"ECD_CATALOGUE_ADDRESS", catalogue_->address()},
              {"ECD_CATALOGUE_CACHE_MS", "0"},
              {"ECD_SERVICE_TOKEN", TestTokens().service},
              {"ECD_SMTP_URL", "smtp://127.0.0.1:" + std::to_string(smtp_port_)},
              {"ECD_SENDER_POLL_MS", "50"}},
             metrics("notifications")));
    registration_ = std::make_unique<ServiceProcess>(
        ECD_REGISTRATION_BIN,
        with({{"ECD_PG_URL", db_},
              {"ECD_REDIS_ADDRESS", "127.0.0.1:" + std::to_string(redis_->port())},
              {"ECD_CATALOGUE_ADDRESS", catalogue_->address()},
              {"ECD_CATALOGUE_CACHE_MS", "0"},
              {"ECD_NOTIFICATIONS_ADDRESS", notifications_->address()},
              {"ECD_CERTIFICATES_ADDRESS", "off"},
              {"ECD_SERVICE_TOKEN", TestTokens().service},
              {"ECD_CANCEL_TOKEN_SECRET", "test-cancel-token-secret"},
              {"ECD_LOG_FORMAT", "json"}},
             metrics("registration")));
    auto key = ecd::test::Run({ECD_CERTIFICATES_BIN, "--generate-key", dir_ + "/key.pem"});
    ASSERT_EQ(key.exit_code, 0) << key.err;
    certificates_ = std::make_unique<ServiceProcess>(
        ECD_CERTIFICATES_BIN, with({{"ECD_PG_URL", db_},
                                    {"ECD_CATALOGUE_ADDRESS", catalogue_->address()},
                                    {"ECD_CATALOGUE_CACHE_MS", "0"},
                                    {"ECD_REGISTRATION_ADDRESS", registration_->address()},
                                    {"ECD_NOTIFICATIONS_ADDRESS", notifications_->address()},
                                    {"ECD_COURIER_INTERVAL_MS", "200"},
                                    {"ECD_SERVICE_TOKEN", TestTokens().service},
                                    {"ECD_SIGNING_KEY_FILE", dir_ + "/key.pem"}},
                                   metrics("certificates")));
    for (auto* service :
         {catalogue_.get(), notifications_.get(), registration_.get(), certificates_.get()}) {
      ASSERT_TRUE(service->WaitHealth("SERVING", std::chrono::seconds(30)))
          << service->process().Log();
    }
    catalogue_metrics_ = MetricsPort(dir_ + "/catalogue.metrics");
    registration_metrics_ = MetricsPort(dir_ + "/registration.metrics");
    notifications_metrics_ = MetricsPort(dir_ + "/notifications.metrics");
    certificates_metrics_ = MetricsPort(dir_ + "/certificates.metrics");

    // Prometheus with the platform's configuration, written by the script scripts/up uses.
    auto config = ecd::test::Run(
        {std::string(ECD_SOURCE_DIR) + "/deploy/prometheus/local-config",
         "catalogue=127.0.0.1:" + std::to_string(catalogue_metrics_),
         "registration=127.0.0.1:" + std::to_string(registration_metrics_),
         "notifications=127.0.0.1:" + std::to_string(notifications_metrics_),
         "certificates=127.0.0.1:" + std::to_string(certificates_metrics_), "scrape_interval=1s"});
    ASSERT_EQ(config.exit_code, 0) << config.err;
    std::ofstream(dir_ + "/prometheus.yml") << config.out;
    prometheus_port_ = FreePort();
    prometheus_ = std::make_unique<Subprocess>(
        std::vector<std::string>{
            "prometheus", "--config.file=" + dir_ + "/prometheus.yml",
            "--storage.tsdb.path=" + dir_ + "/tsdb",
            "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port_)},
        std::map<std::string, std::string>{}, dir_ + "/prometheus.log");
    for (int i = 0; i < 300; ++i) {
      auto r = ecd::test::Run({"curl", "-sf", "--max-time", "2", PromUrl("/-/ready")});
      if (r.exit_code == 0) break;
      ASSERT_TRUE(prometheus_->Running()) << prometheus_->Log();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    catalogue_stub_ = cat::CatalogueService::NewStub(
        grpc::CreateChannel(catalogue_->address(), grpc::InsecureChannelCredentials()));
    registration_stub_ = reg::RegistrationService::NewStub(
        grpc::CreateChannel(registration_->address(), grpc::InsecureChannelCredentials()));
    certificates_stub_ = cert::CertificateService::NewStub(
        grpc::CreateChannel(certificates_->address(), grpc::InsecureChannelCredentials()));
  }

  std::string PromUrl(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(prometheus_port_) + path;
  }

  // The value of a PromQL expression that yields one sample (nullopt when it yields none).
  std::optional<double> Query(const std::string& promql) {
    std::string body =
        Curl({"-G", PromUrl("/api/v1/query"), "--data-urlencode", "query=" + promql});
    static const std::regex one(R"re("value":\[[0-9.]+,"([^"]+)"\])re");
    std::smatch m;
    if (!std::regex_search(body, m, one)) return std::nullopt;
    return std::stod(m[1].str());
  }

  // Waits (up to 60 s) until the expression has the value; returns the last one seen.
  std::optional<double> Await(const std::string& promql, double want) {
    std::optional<double> v;
    for (int i = 0; i < 120; ++i) {
      v = Query(promql);
      if (v && *v == want) return v;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    return v;
  }

  // Waits until the named alert is pending or firing (Prometheus's /api/v1/alerts).
  bool AwaitAlert(const std::string& name, const std::string& job) {
    for (int i = 0; i < 120; ++i) {
      std::string body = Curl({PromUrl("/api/v1/alerts")});
      const std::regex alert("\\{\"labels\":\\{[^}]*\"alertname\":\"" + name + "\"[^}]*\"job\":\"" +
                             job + "\"[^}]*\\}");
      if (std::regex_search(body, alert)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    return false;
  }

  std::string CreateEvent() {
    cat::CreateEventRequest req;
    auto* e = req.mutable_event();
    e->set_title("Cybercrime and criminal justice in cyberspace: Africa");
    e->set_region(cat::REGION_AFRICA);
    e->set_language_code("en");
    *e->mutable_start_time() = In(std::chrono::hours(24 * 30));
    *e->mutable_end_time() = In(std::chrono::hours(24 * 30) + std::chrono::minutes(105));
    e->set_duration_minutes(100);
    for (const char* c : {"NG", "KE", "GH"}) e->add_invited_countries(c);
    e->set_participants_per_country(2);
    e->set_email_verification(cat::EMAIL_VERIFICATION_OFF);
    cat::CreateEventResponse resp;
    auto st = catalogue_stub_->CreateEvent(Ctx(TestTokens().admin).get(), req, &resp);
    if (!st.ok()) throw std::runtime_error("CreateEvent: " + st.error_message());
    cat::PublishEventRequest pub;
    pub.set_name(resp.event().name());
    cat::PublishEventResponse published;
    st = catalogue_stub_->PublishEvent(Ctx(TestTokens().admin).get(), pub, &published);
    if (!st.ok()) throw std::runtime_error("PublishEvent: " + st.error_message());
    return resp.event().name();
  }

  grpc::Status Register(const std::string& event, const reg::Participant& who,
                        const std::string& traceparent, reg::RegisterResponse* resp) {
    reg::RegisterRequest req;
    req.set_event(event);
    *req.mutable_participant() = who;
    req.set_request_id(NewUuidForTest());
    auto ctx = Ctx(TestTokens().frontend);
    if (!traceparent.empty()) ctx->AddMetadata("traceparent", traceparent);
    return registration_stub_->Register(ctx.get(), req, resp);
  }

  static std::string NewUuidForTest() {
    static int n = 0;
    char buf[40];
    std::snprintf(buf, sizeof buf, "0b5e7a1c-0000-4000-8000-%012d", ++n);
    return buf;
  }

  std::unique_ptr<RedisServer> redis_;
  std::string db_;
  std::string dir_;
  int smtp_port_ = 0;
  std::unique_ptr<Subprocess> smtp_;
  std::unique_ptr<ServiceProcess> catalogue_;
  std::unique_ptr<ServiceProcess> notifications_;
  std::unique_ptr<ServiceProcess> registration_;
  std::unique_ptr<ServiceProcess> certificates_;
  int catalogue_metrics_ = 0;
  int registration_metrics_ = 0;
  int notifications_metrics_ = 0;
  int certificates_metrics_ = 0;
  int prometheus_port_ = 0;
  std::unique_ptr<Subprocess> prometheus_;
  std::unique_ptr<cat::CatalogueService::Stub> catalogue_stub_;
  std::unique_ptr<reg::RegistrationService::Stub> registration_stub_;
  std::unique_ptr<cert::CertificateService::Stub> certificates_stub_;
};

TEST_F(ObservabilityTest, PrometheusCountsWhatWasDone) {
  const std::string event = CreateEvent();
  const std::string event_id = event.substr(event.find('/') + 1);
  // Nigeria has two seats: two confirmed, the third waitlisted; Kenya one confirmed; Ghana one
  // confirmed whose mail server refuses the confirmation for good.
  const std::vector<reg::Participant> people = {
      Person("Chukwuemeka", "Okafor", "c.okafor@justice.gov.ng", "NG", "Africa/Lagos"),
      Person("Aisha", "Bello", "a.bello@efcc.gov.ng", "NG", "Africa/Lagos"),
      Person("Oluwaseun", "Adeyemi", "o.adeyemi@npf.gov.ng", "NG", "Africa/Lagos"),
      Person("Wanjiru", "Kamau", "w.kamau@odpp.go.ke", "KE", "Africa/Nairobi"),
      Person("Kwame", "Mensah", "reject.k.mensah@ag.gov.gh", "GH", "Africa/Accra")};
  std::vector<reg::RegisterResponse> registered;
  for (const auto& p : people) {
    reg::RegisterResponse resp;
    auto st = Register(event, p, "", &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    registered.push_back(resp);
  }
  ASSERT_EQ(registered[2].registration().status(), reg::REGISTRATION_STATUS_WAITLISTED);
  // The same address again: refused, and counted by its reason.
  {
    reg::RegisterResponse resp;
    auto st = Register(event, people[1], "", &resp);
    ASSERT_EQ(st.error_code(), grpc::StatusCode::ALREADY_EXISTS) << st.error_message();
  }
  // A call without a token: counted under its code.
  {
    reg::GetAvailabilityRequest req;
    req.set_event(event);
    reg::GetAvailabilityResponse resp;
    auto st = registration_stub_->GetAvailability(Ctx("").get(), req, &resp);
    ASSERT_EQ(st.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  // The first Nigerian cancels: the waitlisted one is promoted into the seat.
  {
    reg::CancelRegistrationRequest req;
    req.set_name(registered[0].registration().name());
    req.set_participant_key(registered[0].participant_key());
    reg::CancelRegistrationResponse resp;
    auto st = registration_stub_->CancelRegistration(Ctx(TestTokens().frontend).get(), req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }

  // A certificate: another webinar, held in the past, attended, completed.
  const std::string held = CreateEvent();
  reg::RegisterResponse attendee;
  ASSERT_TRUE(Register(held,
                       Person("Fatou", "Sarr", "f.sarr@justice.gouv.sn", "KE", "Africa/Dakar"), "",
                       &attendee)
                  .ok());
  ASSERT_TRUE(
      MoveSlot(*catalogue_stub_, TestTokens().admin, held, "2026-03-10T14:00:00Z", 105).ok());
  {
    reg::ImportAttendanceRequest att;
    att.set_event(held);
    att.set_report_csv(
        "Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes)\n"
        "Fatou Sarr,f.sarr@justice.gouv.sn,2026-03-10 14:00:00,2026-03-10 15:40:00,100\n");
    reg::ImportAttendanceResponse resp;
    auto st = registration_stub_->ImportAttendance(Ctx(TestTokens().admin).get(), att, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    cat::CompleteEventRequest complete;
    complete.set_name(held);
    cat::CompleteEventResponse completed;
    st = catalogue_stub_->CompleteEvent(Ctx(TestTokens().admin).get(), complete, &completed);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }
  cert::RequestCertificateResponse issued;
  {
    cert::RequestCertificateRequest req;
    req.set_registration(attendee.registration().name());
    req.set_participant_key(attendee.participant_key());
    auto st =
        certificates_stub_->RequestCertificate(Ctx(TestTokens().frontend).get(), req, &issued);
    ASSERT_TRUE(st.ok()) << st.error_message();
    cert::VerifyCertificateRequest verify;
    verify.set_serial(issued.certificate().facts().serial());
    cert::VerifyCertificateResponse verified;
    st = certificates_stub_->VerifyCertificate(Ctx(TestTokens().frontend).get(), verify, &verified);
    ASSERT_TRUE(st.ok()) << st.error_message();
    ASSERT_EQ(verified.result(), cert::VERIFICATION_RESULT_VALID);
    verify.set_serial("ECD-0000-0000-AAAA-BBBB");
    st = certificates_stub_->VerifyCertificate(Ctx(TestTokens().frontend).get(), verify, &verified);
    ASSERT_TRUE(st.ok()) << st.error_message();
    ASSERT_EQ(verified.result(), cert::VERIFICATION_RESULT_UNKNOWN);
  }

  // The service's own page first (what Prometheus scrapes).
  const std::string page =
      Curl({"http://127.0.0.1:" + std::to_string(registration_metrics_) + "/metrics"});
  EXPECT_NE(page.find("ecd_registrations_total{outcome=\"confirmed\"} 5"), std::string::npos)
      << page;
  EXPECT_NE(page.find("ecd_registrations_total{outcome=\"waitlisted\"} 1"), std::string::npos);
  EXPECT_NE(page.find("ecd_registrations_total{outcome=\"already_registered\"} 1"),
            std::string::npos);

  // Then through Prometheus, with the job names the alerts and the dashboard use.
  const std::string reg_job = "job=\"ecd-registration\"";
  EXPECT_EQ(Await("ecd_registrations_total{" + reg_job + ",outcome=\"confirmed\"}", 5), 5);
  EXPECT_EQ(Await("ecd_registration_changes_total{" + reg_job + ",kind=\"cancelled\"}", 1), 1);
  EXPECT_EQ(Await("ecd_registration_changes_total{" + reg_job + ",kind=\"promoted\"}", 1), 1);
  EXPECT_EQ(Await("grpc_server_handled_total{" + reg_job +
                      ",grpc_service=\"ecd.registration.v1.RegistrationService\","
                      "grpc_method=\"Register\",grpc_code=\"OK\"}",
                  6),
            6);
  EXPECT_EQ(Await("grpc_server_handled_total{" + reg_job +
                      ",grpc_method=\"Register\",grpc_code=\"ALREADY_EXISTS\"}",
                  1),
            1);
  EXPECT_EQ(Await("grpc_server_handled_total{" + reg_job +
                      ",grpc_method=\"GetAvailability\",grpc_code=\"UNAUTHENTICATED\"}",
                  1),
            1);
  // Registration's calls to the catalogue, seen from both sides (its cache is off: one GetEvent
  // per Register, per cancellation, per attendance import, per certificate's look-up ...).
  auto client_calls =
      Await("sum(grpc_client_handled_total{" + reg_job +
                ",grpc_service=\"ecd.catalogue.v1.CatalogueService\",grpc_method=\"GetEvent\","
                "grpc_code=\"OK\"}) >= bool 7",
            1);
  EXPECT_EQ(client_calls, 1);
  auto server_calls = Await(
      "sum(grpc_server_handled_total{job=\"ecd-catalogue\",grpc_method=\"GetEvent\",grpc_code="
      "\"OK\"}) >= bool on() sum(grpc_client_handled_total{grpc_method=\"GetEvent\",grpc_code="
      "\"OK\"})",
      1);
  EXPECT_EQ(server_calls, 1);
  // Seats as PostgreSQL counts them.
  const std::string ng = "{" + reg_job + ",event=\"" + event_id + "\",country=\"NG\"}";
  EXPECT_EQ(Await("ecd_quota_seats_taken" + ng, 2), 2);
  EXPECT_EQ(Await("ecd_quota_seats_limit" + ng, 2), 2);
  EXPECT_EQ(Await("ecd_quota_waitlisted" + ng, 0), 0);
  EXPECT_EQ(
      Await("ecd_quota_seats_taken{" + reg_job + ",event=\"" + event_id + "\",country=\"KE\"}", 1),
      1);
  EXPECT_EQ(Await("ecd_quota_redis_mismatches{" + reg_job + "}", 0), 0);
  EXPECT_EQ(Await("ecd_outbox_pending{" + reg_job + "}", 0), 0);  // all relayed
  // Mail: the refused confirmation is dead at once (a permanent refusal), the others sent.
  const std::string mail_job = "job=\"ecd-notifications\"";
  EXPECT_EQ(Await("ecd_messages_dead_letter_total{" + mail_job + "}", 1), 1);
  EXPECT_EQ(Await("ecd_messages_total{" + mail_job + ",kind=\"confirmed\",state=\"dead\"}", 1), 1);
  EXPECT_EQ(Await("ecd_smtp_send_attempts_total{" + mail_job + ",result=\"rejected\"}", 1), 1);
  EXPECT_EQ(Await("ecd_messages_total{" + mail_job + ",kind=\"confirmed\",state=\"sent\"}", 4), 4);
  EXPECT_EQ(Await("ecd_messages_total{" + mail_job + ",kind=\"waitlisted\",state=\"sent\"}", 1), 1);
  EXPECT_EQ(Await("ecd_messages_total{" + mail_job + ",kind=\"promoted\",state=\"sent\"}", 1), 1);
  EXPECT_EQ(Await("ecd_messages_total{" + mail_job + ",kind=\"cancelled\",state=\"sent\"}", 1), 1);
  EXPECT_EQ(Await("ecd_messages_queue_depth{" + mail_job +
                      "} == bool 0 or "
                      "ecd_messages_oldest_unsent_age_seconds{" +
                      mail_job + "} < bool 60",
                  1),
            1);
  EXPECT_EQ(Await("grpc_server_handled_total{" + mail_job +
                      ",grpc_service=\"ecd.notifications.v1.NotificationService\","
                      "grpc_method=\"DeliverEvents\",grpc_code=\"OK\"} > bool 0",
                  1),
            1);
  // Certificates.
  const std::string cert_job = "job=\"ecd-certificates\"";
  EXPECT_EQ(Await("ecd_certificates_issued_total{" + cert_job + "}", 1), 1);
  EXPECT_EQ(Await("ecd_certificate_render_seconds_count{" + cert_job + "}", 1), 1);
  EXPECT_EQ(Await("ecd_certificate_verifications_total{" + cert_job + ",result=\"valid\"}", 1), 1);
  EXPECT_EQ(Await("ecd_certificate_verifications_total{" + cert_job + ",result=\"unknown\"}", 1),
            1);
  EXPECT_EQ(Await("ecd_certificates_revoked_total{" + cert_job + "} or vector(0)", 0), 0);
  // Health and the pool.
  EXPECT_EQ(Await("ecd_health_serving{job=\"ecd-catalogue\",dependency=\"server\"}", 1), 1);
  EXPECT_EQ(Await("ecd_health_serving{" + reg_job + ",dependency=\"postgresql\"}", 1), 1);
  EXPECT_EQ(Await("ecd_redis_up{" + reg_job + "}", 1), 1);
  EXPECT_EQ(Await("ecd_pg_pool_size{" + reg_job + "}", 8), 8);
  EXPECT_EQ(Await("count(up{job=~\"ecd-.+\"} == 1)", 4), 4);

  // Labels come from closed sets: no address, no name, no request id in any service's metrics,
  // and a bounded number of series.
  for (int port :
       {catalogue_metrics_, registration_metrics_, notifications_metrics_, certificates_metrics_}) {
    const std::string text = Curl({"http://127.0.0.1:" + std::to_string(port) + "/metrics"});
    int series = 0;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      if (line.empty() || line[0] == '#') continue;
      ++series;
      EXPECT_EQ(line.find('@'), std::string::npos) << line;
      for (const auto& p : people) {
        EXPECT_EQ(line.find(p.family_name()), std::string::npos) << line;
      }
      for (const auto& r : registered) {
        EXPECT_EQ(line.find(r.registration().name().substr(14)), std::string::npos) << line;
      }
    }
    EXPECT_GT(series, 10) << port;
    EXPECT_LT(series, 2000) << port;
  }

  // Redis goes away: registration keeps serving (PostgreSQL decides), the metrics say Redis is
  // down, and the degraded alert starts its clock.
  redis_->Stop();
  EXPECT_EQ(Await("ecd_redis_up{" + reg_job + "}", 0), 0);
  EXPECT_EQ(Await("ecd_health_serving{" + reg_job + ",dependency=\"redis\"}", 0), 0);
  EXPECT_EQ(Await("ecd_health_serving{" + reg_job + ",dependency=\"server\"}", 1), 1);
  {
    reg::RegisterResponse resp;
    auto st = Register(event, Person("Ama", "Owusu", "a.owusu@ag.gov.gh", "GH", "Africa/Accra"), "",
                       &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }
  EXPECT_EQ(Await("ecd_registrations_total{" + reg_job + ",outcome=\"confirmed\"}", 6), 6);
  EXPECT_EQ(Await("sum(ecd_redis_errors_total{" + reg_job + "}) > bool 0", 1), 1);
  EXPECT_TRUE(AwaitAlert("EcdRedisDegraded", "ecd-registration"));
  // A service stops: its target goes down and the alert says so; none about the others.
  certificates_.reset();
  EXPECT_EQ(Await("up{" + cert_job + "}", 0), 0);
  EXPECT_TRUE(AwaitAlert("EcdServiceDown", "ecd-certificates"));
  const std::string alerts = Curl({PromUrl("/api/v1/alerts")});
  EXPECT_EQ(alerts.find("\"alertname\":\"EcdServiceNotServing\""), std::string::npos) << alerts;
  EXPECT_EQ(alerts.find("\"alertname\":\"EcdOutboxLag\""), std::string::npos) << alerts;
}

TEST_F(ObservabilityTest, OneTraceFromCallerThroughEveryServiceItReaches) {
  const std::string event = CreateEvent();
  reg::RegisterResponse resp;
  auto st =
      Register(event, Person("Amina", "Diallo", "a.diallo@justice.gouv.sn", "NG", "Africa/Lagos"),
               kTraceparent, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  const std::string reg_id = resp.registration().name().substr(14);

  // Registration's JSON log line for the call carries the caller's trace and a span of its own.
  std::string reg_log;
  std::smatch m;
  const std::regex call_line(std::string(R"re(\{[^\n]*"Register"[^\n]*"trace_id":")re") + kTraceId +
                             R"re(","span_id":"([0-9a-f]{16})"[^\n]*\})re");
  for (int i = 0; i < 100 && !std::regex_search(reg_log, m, call_line); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    reg_log = registration_->process().Log();
  }
  ASSERT_TRUE(std::regex_search(reg_log, m, call_line)) << reg_log;
  const std::string reg_span = m[1].str();
  EXPECT_NE(reg_span, "00f067aa0ba902b7");  // a child, not the caller's own span

  // The catalogue's GetEvent, called by registration while serving it, is in the same trace.
  std::string cat_log;
  const std::regex cat_line(std::string("GetEvent[^\\n]*trace_id=") + kTraceId +
                            " span_id=[0-9a-f]{16}");
  for (int i = 0; i < 100 && !std::regex_search(cat_log, cat_line); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    cat_log = catalogue_->process().Log();
  }
  EXPECT_TRUE(std::regex_search(cat_log, cat_line)) << cat_log;

  // The notifications service takes the event and sends the mail under the same trace.
  std::string mail_log;
  const std::regex accepted(std::string("event [0-9a-f-]+ \\(confirmed\\) for registrations/") +
                            reg_id + ": queued confirmed[^\\n]*trace_id=" + kTraceId);
  const std::regex sent(std::string("sent message [0-9a-f-]+ \\(confirmed\\)[^\\n]*trace_id=") +
                        kTraceId);
  for (int i = 0; i < 200 && !std::regex_search(mail_log, sent); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    mail_log = notifications_->process().Log();
  }
  EXPECT_TRUE(std::regex_search(mail_log, accepted)) << mail_log;
  EXPECT_TRUE(std::regex_search(mail_log, sent)) << mail_log;

  // The outbox row the call wrote (where the registration stands) carries the trace on to the
  // notifications service.
  pqxx::connection conn(db_);
  pqxx::nontransaction tx(conn);
  auto rows = tx.exec_params(
      "SELECT kind, traceparent FROM registration.outbox WHERE registration_id = $1 ORDER BY id",
      reg_id);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0].as<std::string>(), "confirmed");
  for (const auto& r : rows) {
    ASSERT_FALSE(r[1].is_null()) << r[0].as<std::string>();
    EXPECT_EQ(r[1].as<std::string>(), std::string("00-") + kTraceId + "-" + reg_span + "-01");
  }

  // A malformed traceparent is ignored: the call gets a fresh trace, not the bad one.
  reg::RegisterResponse other;
  st = Register(event, Person("Halima", "Yusuf", "h.yusuf@justice.gov.ng", "NG", "Africa/Lagos"),
                "00-zzzz-not-a-trace-01", &other);
  ASSERT_TRUE(st.ok()) << st.error_message();
  auto bad = tx.exec_params(
      "SELECT traceparent FROM registration.outbox WHERE registration_id = $1 LIMIT 1",
      other.registration().name().substr(14));
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_TRUE(
      std::regex_match(bad[0][0].as<std::string>(), std::regex("00-[0-9a-f]{32}-[0-9a-f]{16}-01")));
  EXPECT_EQ(bad[0][0].as<std::string>().find("zzzz"), std::string::npos);
  EXPECT_EQ(bad[0][0].as<std::string>().find(kTraceId), std::string::npos);
}

}  // namespace
}  // namespace ecd::test
