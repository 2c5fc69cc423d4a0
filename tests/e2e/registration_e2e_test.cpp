// End to end: the real catalogue and registration binaries, a real PostgreSQL and Redis, driven
// over gRPC by our C++ client (many calls in flight) and buf curl.
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <pqxx/pqxx>
#include <set>
#include <thread>

#include "common/crypto.hpp"
#include "ecd/catalogue/v1/catalogue.grpc.pb.h"
#include "ecd/registration/v1/registration.grpc.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "tests/harness/grpc_client.hpp"
#include "tests/harness/harness.hpp"
#include "tests/harness/wait_for.hpp"

namespace ecd::test {
namespace {

namespace cat = ::ecd::catalogue::v1;
namespace reg = ::ecd::registration::v1;
using google::protobuf::util::TimeUtil;
constexpr int kRace = 200;

reg::Participant Person(const std::string& email, const std::string& country) {
  reg::Participant p;
  p.set_given_name("Ngozi");
  p.set_family_name("Okonjo-Iweala");
  p.set_email(email);
  p.set_country_code(country);
  p.set_organisation("Ministry of Justice");
  p.set_affiliation(reg::AFFILIATION_MINISTRY_OF_JUSTICE);
  p.set_job_title("Prosecutor");
  p.set_preferred_language("fr");
  p.set_time_zone("Africa/Lagos");
  p.set_privacy_consent(true);
  return p;
}

class Platform {
 public:
  Platform() : redis_(std::make_unique<RedisServer>()), db_(NewDatabaseUrl("reg")) {
    catalogue_ = std::make_unique<ServiceProcess>(
        ECD_CATALOGUE_BIN, std::map<std::string, std::string>{{"ECD_PG_URL", db_}});
    registration_ = StartRegistration();
    if (!catalogue_->WaitHealth("SERVING", std::chrono::seconds(30)) ||
        !registration_->WaitHealth("SERVING", std::chrono::seconds(30))) {
      throw std::runtime_error("services did not start: " + catalogue_->process().Log() +
                               registration_->process().Log());
    }
    catalogue_stub_ = cat::CatalogueService::NewStub(
        grpc::CreateChannel(catalogue_->address(), grpc::InsecureChannelCredentials()));
  }

  // `extra`: more settings (a short verification hold, say).
  std::unique_ptr<ServiceProcess> StartRegistration(
      const std::map<std::string, std::string>& extra = {}) {
    std::map<std::string, std::string> env{
        {"ECD_PG_URL", db_},
        {"ECD_REDIS_ADDRESS", "127.0.0.1:" + std::to_string(redis_->port())},
        {"ECD_CATALOGUE_ADDRESS", catalogue_->address()},
        {"ECD_CATALOGUE_CACHE_MS", "0"},
        {"ECD_NOTIFICATIONS_ADDRESS", "off"},
        {"ECD_CERTIFICATES_ADDRESS", "off"},
        {"ECD_SERVICE_TOKEN", TestTokens().service},
        {"ECD_CANCEL_TOKEN_SECRET", "test-cancel-token-secret"},
        {"ECD_PG_POOL_SIZE", "8"},
        {"ECD_LOG_LEVEL", "warn"}};
    for (const auto& [k, v] : extra) env[k] = v;
    return std::make_unique<ServiceProcess>(ECD_REGISTRATION_BIN, env);
  }

  // Every verification code mailed for an event's registrations, by registration name.
  std::map<std::string, std::string> CodesOf(const std::string& event) {
    pqxx::connection conn(db_);
    pqxx::nontransaction tx(conn);
    std::map<std::string, std::string> out;
    for (const auto& r : tx.exec_params(
             "SELECT o.registration_id::text, o.secret FROM registration.outbox o JOIN"
             " registration.registrations r ON r.id = o.registration_id WHERE r.event_id = $1"
             " AND o.kind = 'verify_email'",
             event.substr(event.find('/') + 1))) {
      out["registrations/" + r[0].as<std::string>()] = r[1].as<std::string>();
    }
    return out;
  }

  // The code mailed to verify a registration's address (or a colleague's, in a hand-over): the
  // outbox row the notifications service would turn into that mail.
  std::string CodeOf(const std::string& registration, const std::string& kind = "verify_email") {
    return MailedSecret(db_, registration, kind);
  }

  std::unique_ptr<reg::RegistrationService::Stub> Stub(ServiceProcess& p) {
    return reg::RegistrationService::NewStub(
        grpc::CreateChannel(p.address(), grpc::InsecureChannelCredentials()));
  }

  // A published event inviting `countries`, open for registration now.
  std::string CreateEvent(const std::vector<std::string>& countries, int limit, bool manual = false,
                          bool publish = true, bool verify = true, const std::string& series = "") {
    cat::CreateEventRequest req;
    auto* e = req.mutable_event();
    e->set_title("Race webinar");
    e->set_region(cat::REGION_AFRICA);
    e->set_language_code("en");
    *e->mutable_start_time() = In(std::chrono::hours(24 * 30));
    *e->mutable_end_time() = In(std::chrono::hours(24 * 30) + std::chrono::minutes(105));
    e->set_duration_minutes(100);
    for (const auto& c : countries) e->add_invited_countries(c);
    e->set_participants_per_country(limit);
    e->set_approval_mode(manual ? cat::APPROVAL_MODE_MANUAL : cat::APPROVAL_MODE_AUTOMATIC);
    if (!verify) e->set_email_verification(cat::EMAIL_VERIFICATION_OFF);
    e->set_series(series);
    cat::CreateEventResponse resp;
    auto st = catalogue_stub_->CreateEvent(Ctx(TestTokens().admin).get(), req, &resp);
    if (!st.ok()) throw std::runtime_error("CreateEvent: " + st.error_message());
    if (publish) {
      cat::PublishEventRequest pub;
      pub.set_name(resp.event().name());
      cat::PublishEventResponse published;
      st = catalogue_stub_->PublishEvent(Ctx(TestTokens().admin).get(), pub, &published);
      if (!st.ok()) throw std::runtime_error("PublishEvent: " + st.error_message());
    }
    return resp.event().name();
  }

  // The webinar took place: its slot moves to `start` (RFC 3339) for `minutes`, in the past.
  void Happened(const std::string& event, const std::string& start, int minutes) {
    auto st = MoveSlot(*catalogue_stub_, TestTokens().admin, event, start, minutes);
    if (!st.ok()) throw std::runtime_error("UpdateEvent: " + st.error_message());
  }

  cat::CatalogueService::Stub& catalogue() { return *catalogue_stub_; }
  ServiceProcess& registration() { return *registration_; }
  RedisServer& redis() { return *redis_; }
  const std::string& db() const { return db_; }

  // What PostgreSQL holds for (event, country).
  struct Truth {
    int confirmed = 0, pending = 0, waitlisted = 0, taken = 0, counted_waitlist = 0;
  };
  Truth TruthOf(const std::string& event_name, const std::string& country) {
    pqxx::connection conn(db_);
    pqxx::nontransaction tx(conn);
    const std::string id = event_name.substr(event_name.find('/') + 1);
    Truth t;
    for (const auto& r : tx.exec_params(
             "SELECT status, count(*) FROM registration.registrations WHERE event_id = $1"
             " AND country = $2 GROUP BY status",
             id, country)) {
      int status = r[0].as<int>(), n = r[1].as<int>();
      if (status == 1) t.confirmed = n;
      if (status == 2) t.pending = n;
      if (status == 3) t.waitlisted = n;
    }
    auto q = tx.exec_params(
        "SELECT taken, waitlisted FROM registration.quotas WHERE event_id = $1 AND country = $2",
        id, country);
    if (!q.empty()) {
      t.taken = q[0][0].as<int>();
      t.counted_waitlist = q[0][1].as<int>();
    }
    return t;
  }
  int64_t Count(const std::string& sql) {
    pqxx::connection conn(db_);
    pqxx::nontransaction tx(conn);
    return tx.exec(sql)[0][0].as<int64_t>();
  }

 private:
  std::unique_ptr<RedisServer> redis_;
  std::string db_;
  std::unique_ptr<ServiceProcess> catalogue_;
  std::unique_ptr<ServiceProcess> registration_;
  std::unique_ptr<cat::CatalogueService::Stub> catalogue_stub_;
};

// `n` Register calls sent at once, spread over `stubs`, from the frontend token; `midway` runs
// after half of them were sent. Their answers come in while the test goes on: Done() counts
// them, Wait() waits for all and gives each call's status and answer (so does the destructor).
struct Outcome {
  grpc::Status status;
  reg::RegisterResponse response;
};
class RegisterCalls {
 public:
  RegisterCalls(const std::vector<reg::RegistrationService::Stub*>& stubs, const std::string& event,
                const std::string& country, int n, const std::string& tag,
                const std::function<void()>& midway = {})
      : out_(n), contexts_(n), requests_(n) {
    for (int i = 0; i < n; ++i) {
      auto& req = requests_[i];
      req.set_event(event);
      *req.mutable_participant() =
          Person("p" + std::to_string(i) + "." + tag + "@justice.example.org", country);
      req.set_request_id(tag + "-" + std::to_string(i));
      contexts_[i] = Ctx(TestTokens().frontend);
      stubs[i % stubs.size()]->async()->Register(contexts_[i].get(), &req, &out_[i].response,
                                                 [this, i](grpc::Status s) {
                                                   std::lock_guard<std::mutex> lock(mu_);
                                                   out_[i].status = std::move(s);
                                                   ++done_;
                                                   cv_.notify_all();
                                                 });
      if (i == n / 2 && midway) midway();
    }
  }
  // Calls still waiting are cancelled (a failed test must not wait for their deadline).
  ~RegisterCalls() {
    for (auto& c : contexts_) c->TryCancel();
    Wait();
  }
  int Done() {
    std::lock_guard<std::mutex> lock(mu_);
    return done_;
  }
  const reg::RegisterRequest& Request(int i) const { return requests_[i]; }
  std::vector<Outcome> Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return done_ == static_cast<int>(out_.size()); });
    return out_;
  }

 private:
  std::vector<Outcome> out_;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts_;
  std::vector<reg::RegisterRequest> requests_;
  std::mutex mu_;
  std::condition_variable cv_;
  int done_ = 0;
};
std::vector<Outcome> RegisterConcurrently(const std::vector<reg::RegistrationService::Stub*>& stubs,
                                          const std::string& event, const std::string& country,
                                          int n, const std::string& tag,
                                          const std::function<void()>& midway = {}) {
  return RegisterCalls(stubs, event, country, n, tag, midway).Wait();
}

// Every call answered with a hold (email verification is on for frontends): exactly `limit`
// holding a seat, the rest waiting with distinct positions 1..n, and PostgreSQL agreeing; then,
// once every address is verified with its mailed code, exactly `limit` confirmed and the rest
// waitlisted in the same order.
void ExpectExactRound(Platform& platform, reg::RegistrationService::Stub& stub,
                      const std::vector<Outcome>& outcomes, const std::string& event,
                      const std::string& country, int limit) {
  int seated = 0, other = 0;
  std::set<int> positions;
  for (const auto& o : outcomes) {
    ASSERT_TRUE(o.status.ok()) << o.status.error_code() << " " << o.status.error_message();
    const auto& r = o.response.registration();
    if (r.status() != reg::REGISTRATION_STATUS_PENDING_VERIFICATION) {
      ++other;
    } else if (r.waitlist_position() == 0) {
      ++seated;
    } else {
      positions.insert(r.waitlist_position());
    }
  }
  const int waitlisted = static_cast<int>(outcomes.size()) - limit;
  EXPECT_EQ(seated, limit);
  EXPECT_EQ(other, 0);
  ASSERT_EQ(static_cast<int>(positions.size()), waitlisted) << "positions not distinct";
  EXPECT_EQ(*positions.begin(), 1);
  EXPECT_EQ(*positions.rbegin(), waitlisted);
  auto truth = platform.TruthOf(event, country);
  EXPECT_EQ(truth.confirmed, limit) << "holds keep their seats";
  EXPECT_EQ(truth.taken, limit);
  EXPECT_EQ(truth.waitlisted, waitlisted);
  EXPECT_EQ(truth.counted_waitlist, waitlisted);
  // Every participant verifies at once (many calls in flight, as in the race).
  const size_t n = outcomes.size();
  std::vector<reg::VerifyRegistrationRequest> requests(n);
  std::vector<reg::VerifyRegistrationResponse> responses(n);
  std::vector<grpc::Status> statuses(n);
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts(n);
  std::mutex mu;
  std::condition_variable cv;
  size_t done = 0;
  const auto codes = platform.CodesOf(event);
  for (size_t i = 0; i < n; ++i) {
    requests[i].set_name(outcomes[i].response.registration().name());
    auto code = codes.find(requests[i].name());
    requests[i].set_code(code == codes.end() ? "" : code->second);
    contexts[i] = Ctx(TestTokens().frontend);
    stub.async()->VerifyRegistration(contexts[i].get(), &requests[i], &responses[i],
                                     [&, i](grpc::Status s) {
                                       std::lock_guard<std::mutex> lock(mu);
                                       statuses[i] = s;
                                       ++done;
                                       cv.notify_all();
                                     });
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done == n; });
  }
  int confirmed = 0;
  std::set<int> verified_positions;
  for (size_t i = 0; i < n; ++i) {
    ASSERT_TRUE(statuses[i].ok()) << statuses[i].error_message();
    const auto& r = responses[i].registration();
    if (r.status() == reg::REGISTRATION_STATUS_CONFIRMED) ++confirmed;
    if (r.status() == reg::REGISTRATION_STATUS_WAITLISTED) {
      verified_positions.insert(r.waitlist_position());
    }
  }
  EXPECT_EQ(confirmed, limit);
  EXPECT_EQ(static_cast<int>(verified_positions.size()), waitlisted);
  truth = platform.TruthOf(event, country);
  EXPECT_EQ(truth.taken, limit);
}

class RegistrationE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { platform_ = new Platform(); }
  static void TearDownTestSuite() { delete platform_; }
  Platform& p() { return *platform_; }
  reg::RegistrationService::Stub& stub() {
    if (!stub_) stub_ = p().Stub(p().registration());
    return *stub_;
  }
  reg::RegisterResponse MustRegister(const std::string& event, const std::string& email,
                                     const std::string& country) {
    reg::RegisterRequest req;
    req.set_event(event);
    *req.mutable_participant() = Person(email, country);
    req.set_request_id("req-" + NewUuid());
    reg::RegisterResponse resp;
    auto st = stub().Register(Ctx(TestTokens().frontend).get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    if (resp.registration().status() == reg::REGISTRATION_STATUS_PENDING_VERIFICATION) {
      // The participant reads their mail and gives the code.
      reg::VerifyRegistrationRequest verify;
      verify.set_name(resp.registration().name());
      verify.set_code(p().CodeOf(verify.name()));
      reg::VerifyRegistrationResponse verified;
      st = stub().VerifyRegistration(Ctx(TestTokens().frontend).get(), verify, &verified);
      EXPECT_TRUE(st.ok()) << st.error_message();
      *resp.mutable_registration() = verified.registration();
    }
    return resp;
  }
  reg::Registration Get(const std::string& name) {
    reg::GetRegistrationRequest req;
    req.set_name(name);
    reg::GetRegistrationResponse resp;
    auto st = stub().GetRegistration(Ctx(TestTokens().admin).get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.registration();
  }

  static Platform* platform_;
  std::unique_ptr<reg::RegistrationService::Stub> stub_;
};
Platform* RegistrationE2E::platform_ = nullptr;

TEST_F(RegistrationE2E, TwentyRoundsOf200ConcurrentRegistrationsNeverOverbook) {
  for (int round = 0; round < 20; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const std::string event = p().CreateEvent({"NG", "GH"}, 4);
    auto outcomes =
        RegisterConcurrently({&stub()}, event, "NG", kRace, "r" + std::to_string(round));
    ExpectExactRound(p(), stub(), outcomes, event, "NG", 4);
    if (HasFatalFailure()) return;
  }
}

TEST_F(RegistrationE2E, TwoProcessesSharingDatabaseAndRedisNeverOverbook) {
  auto second = p().StartRegistration();
  ASSERT_TRUE(second->WaitHealth("SERVING", std::chrono::seconds(30))) << second->process().Log();
  auto other = p().Stub(*second);
  for (int round = 0; round < 20; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const std::string event = p().CreateEvent({"SN"}, 4);
    auto outcomes = RegisterConcurrently({&stub(), other.get()}, event, "SN", kRace,
                                         "two" + std::to_string(round));
    ExpectExactRound(p(), stub(), outcomes, event, "SN", 4);
    if (HasFatalFailure()) return;
  }
}

TEST_F(RegistrationE2E, RedisFlushedMidRaceNeverOverbooks) {
  for (int round = 0; round < 3; ++round) {
    const std::string event = p().CreateEvent({"KE"}, 4);
    auto outcomes =
        RegisterConcurrently({&stub()}, event, "KE", kRace, "flush" + std::to_string(round), [&] {
          ecd::test::Run({"redis-cli", "-p", std::to_string(p().redis().port()), "FLUSHALL"});
          ecd::test::Run(
              {"redis-cli", "-p", std::to_string(p().redis().port()), "SCRIPT", "FLUSH"});
        });
    ExpectExactRound(p(), stub(), outcomes, event, "KE", 4);
  }
}

TEST_F(RegistrationE2E, RedisRestartedMidRaceNeverOverbooks) {
  const std::string event = p().CreateEvent({"UG"}, 4);
  auto outcomes = RegisterConcurrently({&stub()}, event, "UG", kRace, "restart", [&] {
    p().redis().Stop();
    p().redis().Start();
  });
  ExpectExactRound(p(), stub(), outcomes, event, "UG", 4);
}

TEST_F(RegistrationE2E, RedisStoppedRegistrationStillExactAndHealthServing) {
  const std::string event = p().CreateEvent({"TZ"}, 4);
  p().redis().Stop();
  auto outcomes = RegisterConcurrently({&stub()}, event, "TZ", kRace, "stopped");
  ExpectExactRound(p(), stub(), outcomes, event, "TZ", 4);
  EXPECT_EQ(p().registration().HealthStatus(), "SERVING") << "Redis is not critical";
  EXPECT_TRUE(p().registration().WaitHealth("NOT_SERVING", std::chrono::seconds(30), "redis"))
      << "the degradation shows in the health of the dependency";
  reg::GetAvailabilityRequest req;
  req.set_event(event);
  reg::GetAvailabilityResponse resp;
  ASSERT_TRUE(stub().GetAvailability(Ctx(TestTokens().frontend).get(), req, &resp).ok());
  ASSERT_EQ(resp.countries_size(), 1);
  EXPECT_EQ(resp.countries(0).taken(), 4);
  EXPECT_EQ(resp.countries(0).waitlisted(), kRace - 4);
  p().redis().Start();
  EXPECT_TRUE(p().registration().WaitHealth("SERVING", std::chrono::seconds(30), "redis"));
}

TEST_F(RegistrationE2E, FiftyConcurrentRetriesOfOneRequestGiveOneRegistration) {
  const std::string event = p().CreateEvent({"GH"}, 4);
  reg::RegisterRequest req;
  req.set_event(event);
  *req.mutable_participant() = Person("retry@justice.example.org", "GH");
  req.set_request_id("retry-" + NewUuid());
  std::vector<Outcome> out(50);
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts(50);
  std::mutex mu;
  std::condition_variable cv;
  int done = 0;
  for (int i = 0; i < 50; ++i) {
    contexts[i] = Ctx(TestTokens().frontend);
    stub().async()->Register(contexts[i].get(), &req, &out[i].response, [&, i](grpc::Status s) {
      std::lock_guard<std::mutex> lock(mu);
      out[i].status = s;
      ++done;
      cv.notify_all();
    });
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done == 50; });
  }
  for (const auto& o : out) {
    ASSERT_TRUE(o.status.ok()) << o.status.error_message();
    EXPECT_EQ(o.response.SerializeAsString(), out[0].response.SerializeAsString());
  }
  EXPECT_FALSE(out[0].response.cancellation_token().empty());
  EXPECT_EQ(p().Count("SELECT count(*) FROM registration.registrations"
                      " WHERE email = 'retry@justice.example.org'"),
            1);
  // The same key for a different request is refused.
  req.mutable_participant()->set_given_name("Someone else");
  reg::RegisterResponse resp;
  auto st = stub().Register(Ctx(TestTokens().frontend).get(), req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(InfoOf(st).reason(), "REQUEST_ID_REUSED");
}

TEST_F(RegistrationE2E, CancellingPromotesExactlyTheFirstWaitlisted) {
  const std::string event = p().CreateEvent({"CI"}, 2);
  auto a = MustRegister(event, "a@ci.example.org", "CI");
  auto b = MustRegister(event, "b@ci.example.org", "CI");
  auto c = MustRegister(event, "c@ci.example.org", "CI");
  auto d = MustRegister(event, "d@ci.example.org", "CI");
  auto e = MustRegister(event, "e@ci.example.org", "CI");
  EXPECT_EQ(a.registration().status(), reg::REGISTRATION_STATUS_CONFIRMED);
  EXPECT_EQ(b.registration().status(), reg::REGISTRATION_STATUS_CONFIRMED);
  EXPECT_EQ(c.registration().waitlist_position(), 1);
  EXPECT_EQ(d.registration().waitlist_position(), 2);
  EXPECT_EQ(e.registration().waitlist_position(), 3);

  reg::CancelRegistrationRequest cancel;
  cancel.set_name(a.registration().name());
  cancel.set_cancellation_token(b.cancellation_token());  // someone else's token
  reg::CancelRegistrationResponse cancelled;
  auto st = stub().CancelRegistration(Ctx(TestTokens().frontend).get(), cancel, &cancelled);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(InfoOf(st).reason(), "INVALID_CANCELLATION_TOKEN");

  cancel.set_cancellation_token(a.cancellation_token());
  st = stub().CancelRegistration(Ctx(TestTokens().frontend).get(), cancel, &cancelled);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(cancelled.registration().status(), reg::REGISTRATION_STATUS_CANCELLED);
  EXPECT_EQ(Get(c.registration().name()).status(), reg::REGISTRATION_STATUS_CONFIRMED);
  EXPECT_EQ(Get(d.registration().name()).waitlist_position(), 1);
  EXPECT_EQ(Get(e.registration().name()).waitlist_position(), 2);
  auto truth = p().TruthOf(event, "CI");
  EXPECT_EQ(truth.confirmed, 2);
  EXPECT_EQ(truth.taken, 2);
  EXPECT_EQ(truth.waitlisted, 2);
  // Cancelling again changes nothing.
  ASSERT_TRUE(stub().CancelRegistration(Ctx(TestTokens().frontend).get(), cancel, &cancelled).ok());
  EXPECT_EQ(p().TruthOf(event, "CI").confirmed, 2);
  // The outbox recorded each change in order.
  EXPECT_EQ(p().Count("SELECT count(*) FROM registration.outbox WHERE kind = 'promoted' AND"
                      " registration_id = '" +
                      c.registration().name().substr(14) + "'"),
            1);
  EXPECT_EQ(p().Count("SELECT count(*) FROM registration.outbox WHERE kind = 'cancelled' AND"
                      " registration_id = '" +
                      a.registration().name().substr(14) + "'"),
            1);
}

TEST_F(RegistrationE2E, RejectingAPendingOnePromotesTheFirstWaitlisted) {
  const std::string event = p().CreateEvent({"BJ"}, 1, /*manual=*/true);
  auto a = MustRegister(event, "a@bj.example.org", "BJ");
  auto b = MustRegister(event, "b@bj.example.org", "BJ");
  auto c = MustRegister(event, "c@bj.example.org", "BJ");
  EXPECT_EQ(a.registration().status(), reg::REGISTRATION_STATUS_PENDING_APPROVAL);
  EXPECT_EQ(b.registration().waitlist_position(), 1);
  reg::RejectRegistrationRequest rej;
  rej.set_name(a.registration().name());
  rej.set_reason("not a criminal-justice official");
  reg::RejectRegistrationResponse rejected;
  EXPECT_EQ(
      stub().RejectRegistration(Ctx(TestTokens().frontend).get(), rej, &rejected).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(stub().RejectRegistration(Ctx(TestTokens().admin).get(), rej, &rejected).ok());
  EXPECT_EQ(rejected.registration().status(), reg::REGISTRATION_STATUS_REJECTED);
  EXPECT_EQ(rejected.registration().rejection_reason(), "not a criminal-justice official");
  EXPECT_EQ(Get(a.registration().name()).rejection_reason(), "not a criminal-justice official")
      << "kept for colleagues";
  EXPECT_EQ(Get(b.registration().name()).status(), reg::REGISTRATION_STATUS_PENDING_APPROVAL);
  EXPECT_EQ(Get(c.registration().name()).waitlist_position(), 1);
  reg::ApproveRegistrationRequest approve;
  approve.set_name(b.registration().name());
  reg::ApproveRegistrationResponse approved;
  ASSERT_TRUE(stub().ApproveRegistration(Ctx(TestTokens().admin).get(), approve, &approved).ok());
  EXPECT_EQ(approved.registration().status(), reg::REGISTRATION_STATUS_CONFIRMED);
  approve.set_name(c.registration().name());
  auto st = stub().ApproveRegistration(Ctx(TestTokens().admin).get(), approve, &approved);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(InfoOf(st).reason(), "NOT_PENDING_APPROVAL");
}

TEST_F(RegistrationE2E, AttendanceMergesRejoinsAndReportsBadRows) {
  const std::string event = p().CreateEvent({"SN"}, 4);
  auto a = MustRegister(event, "awa.diop@justice.sn", "SN");
  auto b = MustRegister(event, "moussa@interieur.sn", "SN");
  p().Happened(event, "2020-07-07T08:00:00Z", 105);
  const std::string csv =
      "Meeting ID,Topic,Start Time,End Time,User Email,Duration (Minutes),Participants\r\n"
      "123,Webinar,07/07/2020 08:00:00 AM,07/07/2020 09:45:00 AM,host@coe.int,105,3\r\n"
      "\r\n"
      "Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest\r\n"
      "\"Diop, Awa\",Awa.Diop@justice.sn,07/07/2020 08:00:00 AM,07/07/2020 08:30:00 AM,30,No\r\n"
      "\"Diop, Awa\",awa.diop@justice.sn,07/07/2020 08:20:00 AM,07/07/2020 09:00:00 AM,40,No\r\n"
      "\"Diop, Awa\",awa.diop@justice.sn,07/07/2020 09:10:00 AM,07/07/2020 09:25:00 AM,15,No\r\n"
      "Moussa,moussa@interieur.sn,07/07/2020 08:05:00 AM,07/07/2020 08:50:30 AM,45,No\r\n"
      "Stranger,stranger@example.org,07/07/2020 08:00:00 AM,07/07/2020 08:10:00 AM,10,Yes\r\n"
      "Broken,broken@example.org,07/32/2020 08:00:00 AM,07/07/2020 08:10:00 AM,10,Yes\r\n"
      "Backwards,moussa@interieur.sn,07/07/2020 09:00:00 AM,07/07/2020 08:00:00 AM,0,No\r\n";
  reg::ImportAttendanceRequest req;
  req.set_event(event);
  req.set_report_csv(csv);
  for (int attempt = 0; attempt < 2; ++attempt) {  // re-importing gives the same result
    reg::ImportAttendanceResponse resp;
    auto st = stub().ImportAttendance(Ctx(TestTokens().admin).get(), req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(resp.rows(), 7);
    EXPECT_EQ(resp.matched_rows(), 4);
    ASSERT_EQ(resp.unmatched_emails_size(), 1);
    EXPECT_EQ(resp.unmatched_emails(0), "stranger@example.org");
    ASSERT_EQ(resp.malformed_rows_size(), 2);
    EXPECT_EQ(resp.malformed_rows(0).line(), 10);
    EXPECT_EQ(resp.malformed_rows(1).line(), 11);
    EXPECT_EQ(Get(a.registration().name()).attended_minutes(), 75);  // 08:00-09:00 + 15
    EXPECT_EQ(Get(b.registration().name()).attended_minutes(), 45);
    EXPECT_EQ(resp.format(), reg::REPORT_FORMAT_ZOOM_MEETING_PARTICIPANTS);
    EXPECT_EQ(resp.time_zone(), "UTC");
    EXPECT_EQ(resp.time_format(), "MM/DD/YYYY hh:mm:ss AM/PM");
    EXPECT_EQ(resp.unmatched_rows(), 1);
  }
  // A report over the 10 MiB bound reaches the service and is refused naming the field.
  req.set_report_csv(std::string((10u << 20) + 1, 'x'));
  reg::ImportAttendanceResponse too_big;
  auto big = stub().ImportAttendance(Ctx(TestTokens().admin).get(), req, &too_big);
  EXPECT_EQ(big.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << big.error_message();
  EXPECT_EQ(InfoOf(big).metadata().count("field") ? InfoOf(big).metadata().at("field") : "",
            "report_csv");
  EXPECT_EQ(p().Count("SELECT count(*) FROM registration.outbox WHERE kind ="
                      " 'attendance_recorded' AND registration_id = '" +
                      a.registration().name().substr(14) + "'"),
            1)
      << "an unchanged re-import writes no new outbox row";
}

TEST_F(RegistrationE2E, BadInputIsRefusedAndWritesNothing) {
  const std::string open = p().CreateEvent({"NG"}, 4);
  const std::string draft = p().CreateEvent({"NG"}, 4, false, /*publish=*/false);
  const std::string cancelled = p().CreateEvent({"NG"}, 4);
  cat::CancelEventRequest cancel;
  cancel.set_name(cancelled);
  cat::CancelEventResponse cancel_resp;
  ASSERT_TRUE(
      p().catalogue().CancelEvent(Ctx(TestTokens().admin).get(), cancel, &cancel_resp).ok());
  // A window that closed: close it through the catalogue.
  const std::string closed = p().CreateEvent({"NG"}, 4);
  cat::UpdateEventRequest upd;
  upd.mutable_event()->set_name(closed);
  *upd.mutable_event()->mutable_registration_open_time() = In(-std::chrono::hours(48));
  *upd.mutable_event()->mutable_registration_close_time() = In(-std::chrono::hours(24));
  upd.mutable_update_mask()->add_paths("registration_open_time");
  upd.mutable_update_mask()->add_paths("registration_close_time");
  cat::UpdateEventResponse updated;
  ASSERT_TRUE(p().catalogue().UpdateEvent(Ctx(TestTokens().admin).get(), upd, &updated).ok());

  const int64_t before = p().Count("SELECT count(*) FROM registration.registrations");
  const int64_t outbox_before = p().Count("SELECT count(*) FROM registration.outbox");
  struct Case {
    std::string name;
    std::function<void(reg::RegisterRequest&)> mutate;
    grpc::StatusCode code;
    std::string reason_or_field;
  };
  const std::vector<Case> cases = {
      {"malformed email", [](auto& r) { r.mutable_participant()->set_email("not-an-email"); },
       grpc::StatusCode::INVALID_ARGUMENT, "participant.email"},
      {"unknown country", [](auto& r) { r.mutable_participant()->set_country_code("XX"); },
       grpc::StatusCode::INVALID_ARGUMENT, "participant.country_code"},
      {"missing consent", [](auto& r) { r.mutable_participant()->set_privacy_consent(false); },
       grpc::StatusCode::INVALID_ARGUMENT, "participant.privacy_consent"},
      {"overlong name",
       [](auto& r) { r.mutable_participant()->set_given_name(std::string(101, 'x')); },
       grpc::StatusCode::INVALID_ARGUMENT, "participant.given_name"},
      {"bad time zone", [](auto& r) { r.mutable_participant()->set_time_zone("Mars/Olympus"); },
       grpc::StatusCode::INVALID_ARGUMENT, "participant.time_zone"},
      {"bad language", [](auto& r) { r.mutable_participant()->set_preferred_language("de"); },
       grpc::StatusCode::INVALID_ARGUMENT, "participant.preferred_language"},
      {"no request id", [](auto& r) { r.clear_request_id(); }, grpc::StatusCode::INVALID_ARGUMENT,
       "request_id"},
      {"country not invited", [](auto& r) { r.mutable_participant()->set_country_code("FR"); },
       grpc::StatusCode::FAILED_PRECONDITION, "COUNTRY_NOT_INVITED"},
      {"draft event", [&](auto& r) { r.set_event(draft); }, grpc::StatusCode::FAILED_PRECONDITION,
       "EVENT_NOT_OPEN"},
      {"cancelled event", [&](auto& r) { r.set_event(cancelled); },
       grpc::StatusCode::FAILED_PRECONDITION, "EVENT_NOT_OPEN"},
      {"closed window", [&](auto& r) { r.set_event(closed); },
       grpc::StatusCode::FAILED_PRECONDITION, "REGISTRATION_CLOSED"},
      {"unknown event", [](auto& r) { r.set_event("events/00000000-0000-4000-8000-000000000000"); },
       grpc::StatusCode::NOT_FOUND, "EVENT_NOT_FOUND"},
  };
  for (const auto& c : cases) {
    reg::RegisterRequest req;
    req.set_event(open);
    *req.mutable_participant() = Person("bad-" + NewUuid().substr(0, 8) + "@example.org", "NG");
    req.set_request_id("bad-" + NewUuid());
    c.mutate(req);
    reg::RegisterResponse resp;
    auto st = stub().Register(Ctx(TestTokens().frontend).get(), req, &resp);
    EXPECT_EQ(st.error_code(), c.code) << c.name << ": " << st.error_message();
    auto info = InfoOf(st);
    if (c.code == grpc::StatusCode::INVALID_ARGUMENT) {
      EXPECT_EQ(info.metadata().count("field") ? info.metadata().at("field") : "",
                c.reason_or_field)
          << c.name;
    } else {
      EXPECT_EQ(info.reason(), c.reason_or_field) << c.name;
    }
  }
  EXPECT_EQ(p().Count("SELECT count(*) FROM registration.registrations"), before);
  EXPECT_EQ(p().Count("SELECT count(*) FROM registration.outbox"), outbox_before);

  // One registration per email per event, whatever the case of the address (administrators are
  // told; frontends get a decoy, see NoEnumeration).
  MustRegister(open, "dup@example.org", "NG");
  reg::RegisterRequest again;
  again.set_event(open);
  *again.mutable_participant() = Person("DUP@Example.org", "NG");
  again.set_request_id("dup-" + NewUuid());
  reg::RegisterResponse resp;
  auto st = stub().Register(Ctx(TestTokens().admin).get(), again, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(InfoOf(st).reason(), "ALREADY_REGISTERED");
  // The integration role cannot register, nobody can without a token.
  EXPECT_EQ(stub().Register(Ctx(TestTokens().integration).get(), again, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(stub().Register(Ctx("").get(), again, &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(RegistrationE2E, WatchAvailabilitySeesChangesFromAnotherReplica) {
  const std::string event = p().CreateEvent({"GH", "NG"}, 2);
  auto second = p().StartRegistration();
  ASSERT_TRUE(second->WaitHealth("SERVING", std::chrono::seconds(30)));
  auto other = p().Stub(*second);
  reg::WatchAvailabilityRequest req;
  req.set_event(event);
  auto ctx = Ctx(TestTokens().frontend);
  auto reader = stub().WatchAvailability(ctx.get(), req);
  reg::WatchAvailabilityResponse msg;
  ASSERT_TRUE(reader->Read(&msg));
  ASSERT_EQ(msg.countries_size(), 2);
  EXPECT_EQ(msg.countries(0).country_code(), "GH");
  EXPECT_EQ(msg.countries(0).taken(), 0);
  // Three registrations for GH on the other replica: taken 2, waitlisted 1 eventually.
  for (int i = 0; i < 3; ++i) {
    reg::RegisterRequest r;
    r.set_event(event);
    *r.mutable_participant() = Person("w" + std::to_string(i) + "@gh.example.org", "GH");
    r.set_request_id("watch-" + NewUuid());
    reg::RegisterResponse resp;
    ASSERT_TRUE(other->Register(Ctx(TestTokens().frontend).get(), r, &resp).ok());
  }
  bool seen = false;
  while (!seen && reader->Read(&msg)) {
    seen = msg.countries(0).taken() == 2 && msg.countries(0).waitlisted() == 1;
  }
  EXPECT_TRUE(seen);
  ctx->TryCancel();
  reader->Finish();
}

TEST_F(RegistrationE2E, ErasureAnonymisesAndFreesTheSeat) {
  const std::string event = p().CreateEvent({"ML"}, 1);
  auto x = MustRegister(event, "erase.me@ml.example.org", "ML");
  auto y = MustRegister(event, "next@ml.example.org", "ML");
  EXPECT_EQ(y.registration().status(), reg::REGISTRATION_STATUS_WAITLISTED);
  reg::ErasePersonalDataRequest req;
  req.set_email("Erase.Me@ml.example.org");
  reg::ErasePersonalDataResponse resp;
  ASSERT_TRUE(stub().ErasePersonalData(Ctx(TestTokens().admin).get(), req, &resp).ok());
  EXPECT_EQ(resp.erased(), 1);
  EXPECT_EQ(resp.cancelled(), 1);
  auto erased = Get(x.registration().name());
  EXPECT_TRUE(erased.erased());
  EXPECT_EQ(erased.participant().email(), "");
  EXPECT_EQ(erased.participant().given_name(), "");
  EXPECT_EQ(Get(y.registration().name()).status(), reg::REGISTRATION_STATUS_CONFIRMED);
  auto truth = p().TruthOf(event, "ML");
  EXPECT_EQ(truth.taken, 1);
  EXPECT_EQ(truth.confirmed, 1);
  EXPECT_EQ(p().Count("SELECT count(*) FROM registration.registrations WHERE email_norm ="
                      " 'erase.me@ml.example.org'"),
            0);
  EXPECT_EQ(p().Count("SELECT count(*) FROM registration.outbox WHERE position("
                      "'erase.me' in encode(payload, 'escape')) > 0"),
            0)
      << "the outbox still holds the address";
}

TEST_F(RegistrationE2E, ExportStreamsEveryRegistrationAndListPages) {
  const std::string event = p().CreateEvent({"GM"}, 3);
  std::set<std::string> names;
  for (int i = 0; i < 7; ++i) {
    names.insert(MustRegister(event, "x" + std::to_string(i) + "@gm.example.org", "GM")
                     .registration()
                     .name());
  }
  reg::ExportRegistrationsRequest req;
  req.set_event(event);
  auto ctx = Ctx(TestTokens().admin);
  auto reader = stub().ExportRegistrations(ctx.get(), req);
  reg::ExportRegistrationsResponse msg;
  std::set<std::string> exported;
  while (reader->Read(&msg)) exported.insert(msg.registration().name());
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(exported, names);

  std::set<std::string> listed;
  reg::ListRegistrationsRequest list;
  list.set_event(event);
  list.set_page_size(3);
  for (;;) {
    reg::ListRegistrationsResponse page;
    ASSERT_TRUE(stub().ListRegistrations(Ctx(TestTokens().admin).get(), list, &page).ok());
    for (const auto& r : page.registrations()) listed.insert(r.name());
    if (page.next_page_token().empty()) break;
    list.set_page_token(page.next_page_token());
  }
  EXPECT_EQ(listed, names);
  list.clear_page_token();
  reg::ListRegistrationsResponse page;
  EXPECT_EQ(stub().ListRegistrations(Ctx(TestTokens().frontend).get(), list, &page).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

}  // namespace
}  // namespace ecd::test

namespace ecd::test {
namespace {

// The lifecycle, held by the catalogue and registration together: no completion before the end,
// no attendance before the start, no approval, rejection or promotion once it is over.
TEST_F(RegistrationE2E, LifecycleRefusalsChangeNothing) {
  const std::string event = p().CreateEvent({"SN"}, 1, /*manual=*/true);
  auto a = MustRegister(event, "awa.lifecycle@justice.sn", "SN");
  auto b = MustRegister(event, "moussa.lifecycle@justice.sn", "SN");
  ASSERT_EQ(a.registration().status(), reg::REGISTRATION_STATUS_PENDING_APPROVAL);
  ASSERT_EQ(b.registration().status(), reg::REGISTRATION_STATUS_WAITLISTED);

  cat::CompleteEventRequest complete;
  complete.set_name(event);
  cat::CompleteEventResponse completed;
  auto st = p().catalogue().CompleteEvent(Ctx(TestTokens().admin).get(), complete, &completed);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << st.error_message();
  auto info = InfoOf(st);
  EXPECT_EQ(info.reason(), "EVENT_NOT_ENDED");
  EXPECT_EQ(info.metadata().at("event_status"), "EVENT_STATUS_PUBLISHED");
  EXPECT_EQ(info.metadata().count("start_time"), 1u);
  EXPECT_EQ(info.metadata().count("end_time"), 1u);
  cat::GetEventRequest get;
  get.set_name(event);
  cat::GetEventResponse got;
  ASSERT_TRUE(p().catalogue().GetEvent(Ctx(TestTokens().admin).get(), get, &got).ok());
  EXPECT_EQ(got.event().status(), cat::EVENT_STATUS_PUBLISHED);

  reg::ImportAttendanceRequest import;
  import.set_event(event);
  import.set_report_csv(
      "User Email,Join Time,Leave Time\nawa.lifecycle@justice.sn,2020-07-09 08:00,"
      "2020-07-09 09:40\n");
  reg::ImportAttendanceResponse imported;
  st = stub().ImportAttendance(Ctx(TestTokens().admin).get(), import, &imported);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << st.error_message();
  EXPECT_EQ(InfoOf(st).reason(), "EVENT_NOT_STARTED");
  EXPECT_EQ(InfoOf(st).metadata().at("event_status"), "EVENT_STATUS_PUBLISHED");
  EXPECT_EQ(Get(a.registration().name()).attended_minutes(), 0);

  p().Happened(event, "2020-07-09T08:00:00Z", 100);
  ASSERT_TRUE(
      p().catalogue().CompleteEvent(Ctx(TestTokens().admin).get(), complete, &completed).ok());

  reg::ApproveRegistrationRequest approve;
  approve.set_name(a.registration().name());
  reg::ApproveRegistrationResponse approved;
  st = stub().ApproveRegistration(Ctx(TestTokens().admin).get(), approve, &approved);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << st.error_message();
  EXPECT_EQ(InfoOf(st).reason(), "EVENT_CLOSED");
  EXPECT_EQ(InfoOf(st).metadata().at("event_status"), "EVENT_STATUS_COMPLETED");
  reg::RejectRegistrationRequest reject;
  reject.set_name(a.registration().name());
  reg::RejectRegistrationResponse rejected;
  st = stub().RejectRegistration(Ctx(TestTokens().admin).get(), reject, &rejected);
  EXPECT_EQ(InfoOf(st).reason(), "EVENT_CLOSED");
  EXPECT_EQ(Get(a.registration().name()).status(), reg::REGISTRATION_STATUS_PENDING_APPROVAL);

  // A seat freed after the event goes to nobody.
  reg::CancelRegistrationRequest cancel;
  cancel.set_name(a.registration().name());
  reg::CancelRegistrationResponse cancelled;
  ASSERT_TRUE(stub().CancelRegistration(Ctx(TestTokens().admin).get(), cancel, &cancelled).ok());
  EXPECT_EQ(Get(b.registration().name()).status(), reg::REGISTRATION_STATUS_WAITLISTED);
  EXPECT_EQ(p().Count("SELECT count(*) FROM registration.outbox WHERE kind = 'promoted' AND"
                      " registration_id = '" +
                      b.registration().name().substr(14) + "'"),
            0);

  // Attendance after completion is fine; for a cancelled event it is refused.
  ASSERT_TRUE(stub().ImportAttendance(Ctx(TestTokens().admin).get(), import, &imported).ok());
  EXPECT_EQ(Get(a.registration().name()).attended_minutes(), 100);
  const std::string gone = p().CreateEvent({"SN"}, 1);
  MustRegister(gone, "awa.lifecycle@justice.sn", "SN");
  p().Happened(gone, "2020-07-09T08:00:00Z", 100);
  cat::CancelEventRequest cancel_event;
  cancel_event.set_name(gone);
  cat::CancelEventResponse event_cancelled;
  ASSERT_TRUE(p().catalogue()
                  .CancelEvent(Ctx(TestTokens().admin).get(), cancel_event, &event_cancelled)
                  .ok());
  import.set_event(gone);
  st = stub().ImportAttendance(Ctx(TestTokens().admin).get(), import, &imported);
  EXPECT_EQ(InfoOf(st).reason(), "EVENT_CANCELLED") << st.error_message();
}

// A file that is no Zoom report, and one that matches nobody: refused, saying why; nothing changes.
TEST_F(RegistrationE2E, UnrecognisedOrUnmatchedReportsAreRefused) {
  const std::string event = p().CreateEvent({"SN"}, 4);
  auto a = MustRegister(event, "awa.refused@justice.sn", "SN");
  p().Happened(event, "2020-07-09T08:00:00Z", 100);
  reg::ImportAttendanceRequest import;
  import.set_event(event);
  reg::ImportAttendanceResponse imported;

  import.set_report_csv("Registration ID,First Name,Last Name,Email\n1,Awa,Diop,a@b.sn\n");
  auto st = stub().ImportAttendance(Ctx(TestTokens().admin).get(), import, &imported);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  EXPECT_EQ(InfoOf(st).reason(), "REPORT_FORMAT_UNKNOWN");
  EXPECT_EQ(InfoOf(st).metadata().at("field"), "report_csv");
  EXPECT_EQ(InfoOf(st).metadata().at("first_line"), "Registration ID,First Name,Last Name,Email");

  import.set_report_csv(
      "User Email,Join Time,Leave Time\nsomeone.else@example.org,2020-07-09 08:00,"
      "2020-07-09 09:40\nbroken,x,y\n");
  st = stub().ImportAttendance(Ctx(TestTokens().admin).get(), import, &imported);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << st.error_message();
  auto info = InfoOf(st);
  EXPECT_EQ(info.reason(), "NO_ROW_MATCHED");
  EXPECT_EQ(info.metadata().at("report_emails"), "someone.else@example.org");
  EXPECT_EQ(info.metadata().at("registered_emails"), "awa.refused@justice.sn");
  EXPECT_EQ(info.metadata().at("report_format"), "ZOOM_MEETING_PARTICIPANTS");

  import.set_report_csv("User Email,Join Time,Leave Time\nawa.refused@justice.sn,\xff,\xfe\n");
  st = stub().ImportAttendance(Ctx(TestTokens().admin).get(), import, &imported);
  EXPECT_EQ(InfoOf(st).reason(), "NO_ROW_MATCHED") << "invalid UTF-8 is a malformed row";

  for (const char* zone : {"posixrules", "Factory", "right/UTC", "Mars/Olympus"}) {
    import.set_time_zone(zone);
    st = stub().ImportAttendance(Ctx(TestTokens().admin).get(), import, &imported);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << zone;
    EXPECT_EQ(InfoOf(st).metadata().at("field"), "time_zone") << zone;
  }
  EXPECT_EQ(Get(a.registration().name()).attended_minutes(), 0);
  EXPECT_EQ(p().Count("SELECT count(*) FROM registration.outbox WHERE kind ="
                      " 'attendance_recorded' AND registration_id = '" +
                      a.registration().name().substr(14) + "'"),
            0);
}

}  // namespace
}  // namespace ecd::test

// Participants own their registration (issue 11): verified email holds, participant keys, no
// enumeration, self-service, erasure that leaves nothing, one text rule.
namespace ecd::test {
namespace {

reg::RegisterResponse RegisterOn(reg::RegistrationService::Stub& stub, const std::string& event,
                                 const reg::Participant& person, const std::string& token,
                                 grpc::Status* status = nullptr) {
  reg::RegisterRequest req;
  req.set_event(event);
  *req.mutable_participant() = person;
  req.set_request_id("own-" + NewUuid());
  reg::RegisterResponse resp;
  auto st = stub.Register(Ctx(token).get(), req, &resp);
  if (status != nullptr) {
    *status = st;
  } else {
    EXPECT_TRUE(st.ok()) << st.error_message();
  }
  return resp;
}

reg::Registration GetAs(reg::RegistrationService::Stub& stub, const std::string& name,
                        const std::string& key, const std::string& token, grpc::Status* st) {
  reg::GetRegistrationRequest req;
  req.set_name(name);
  req.set_participant_key(key);
  reg::GetRegistrationResponse resp;
  *st = stub.GetRegistration(Ctx(token).get(), req, &resp);
  return resp.registration();
}

// Polls until `done` or 30 s (a hold's expiry is the sweeper's, on its own schedule).
bool Eventually(const std::function<bool()>& done) {
  return WaitFor(done, std::chrono::seconds(30), std::chrono::milliseconds(50));
}

TEST_F(RegistrationE2E, VerificationHoldsThePlaceAndAnExpiredHoldPromotesTheNext) {
  auto short_holds = p().StartRegistration(
      {{"ECD_VERIFICATION_HOLD_MS", "1500"}, {"ECD_HOLD_SWEEP_INTERVAL_MS", "100"}});
  ASSERT_TRUE(short_holds->WaitHealth("SERVING", std::chrono::seconds(30)));
  auto stub = p().Stub(*short_holds);
  const std::string event = p().CreateEvent({"SN"}, 1);
  auto a = RegisterOn(*stub, event, Person("a.hold@justice.sn", "SN"), TestTokens().frontend);
  auto b = RegisterOn(*stub, event, Person("b.hold@justice.sn", "SN"), TestTokens().frontend);
  auto c = RegisterOn(*stub, event, Person("c.hold@justice.sn", "SN"), TestTokens().frontend);
  EXPECT_EQ(a.registration().status(), reg::REGISTRATION_STATUS_PENDING_VERIFICATION);
  EXPECT_TRUE(a.registration().has_hold_expire_time());
  EXPECT_EQ(a.registration().waitlist_position(), 0);
  EXPECT_EQ(b.registration().waitlist_position(), 1);
  EXPECT_EQ(c.registration().waitlist_position(), 2);
  EXPECT_FALSE(a.participant_key().empty());
  EXPECT_EQ(a.cancellation_token(), a.participant_key());
  // The hold counts: the country's seat is taken.
  auto truth = p().TruthOf(event, "SN");
  EXPECT_EQ(truth.taken, 1);
  EXPECT_EQ(truth.waitlisted, 2);
  // A wrong code is refused by name and changes nothing; B verifies and keeps its place.
  reg::VerifyRegistrationRequest verify;
  verify.set_name(a.registration().name());
  const std::string code = p().CodeOf(verify.name());
  verify.set_code(code == "000000" ? "000001" : "000000");
  reg::VerifyRegistrationResponse verified;
  auto st = stub->VerifyRegistration(Ctx(TestTokens().frontend).get(), verify, &verified);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(InfoOf(st).metadata().at("field"), "code");
  verify.set_name(b.registration().name());
  verify.set_code(p().CodeOf(verify.name()));
  ASSERT_TRUE(stub->VerifyRegistration(Ctx(TestTokens().frontend).get(), verify, &verified).ok());
  EXPECT_EQ(verified.registration().status(), reg::REGISTRATION_STATUS_WAITLISTED);
  EXPECT_EQ(verified.registration().waitlist_position(), 1);
  // A's hold runs out: its seat goes to B, the first in line; C's hold runs out too.
  ASSERT_TRUE(Eventually([&] {
    return Get(a.registration().name()).status() == reg::REGISTRATION_STATUS_EXPIRED &&
           Get(c.registration().name()).status() == reg::REGISTRATION_STATUS_EXPIRED;
  }));
  EXPECT_EQ(Get(b.registration().name()).status(), reg::REGISTRATION_STATUS_CONFIRMED);
  truth = p().TruthOf(event, "SN");
  EXPECT_EQ(truth.taken, 1);
  EXPECT_EQ(truth.confirmed, 1);
  EXPECT_EQ(truth.waitlisted, 0);
  EXPECT_EQ(truth.counted_waitlist, 0);
  // An expired hold cannot be verified any more.
  verify.set_name(a.registration().name());
  verify.set_code(code);
  st = stub->VerifyRegistration(Ctx(TestTokens().frontend).get(), verify, &verified);
  EXPECT_EQ(InfoOf(st).reason(), "HOLD_EXPIRED");
}

TEST_F(RegistrationE2E, TwoHundredRacingWhileHoldsExpireNeverOverbook) {
  const std::map<std::string, std::string> short_holds = {{"ECD_VERIFICATION_HOLD_MS", "1000"},
                                                          {"ECD_HOLD_SWEEP_INTERVAL_MS", "50"}};
  auto one = p().StartRegistration(short_holds), two = p().StartRegistration(short_holds);
  ASSERT_TRUE(one->WaitHealth("SERVING", std::chrono::seconds(30)));
  ASSERT_TRUE(two->WaitHealth("SERVING", std::chrono::seconds(30)));
  auto fast = p().Stub(*one), fast2 = p().Stub(*two);
  const std::string event = p().CreateEvent({"BF"}, 4);
  // Someone watches PostgreSQL the whole time: never more seat holders than seats.
  std::atomic<bool> racing{true};
  std::atomic<int> worst{0}, samples{0};
  std::thread watcher([&] {
    pqxx::connection conn(p().db());
    while (racing) {
      pqxx::nontransaction tx(conn);
      const int holders =
          tx.exec_params(
                "SELECT count(*) FROM registration.registrations WHERE event_id = $1"
                " AND country = 'BF' AND status IN (1, 2)",
                event.substr(event.find('/') + 1))[0][0]
              .as<int>();
      worst = std::max(worst.load(), holders);
      ++samples;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  // Two replicas, both releasing holds while the race goes on.
  auto outcomes = RegisterConcurrently({fast.get(), fast2.get()}, event, "BF", kRace, "expiring");
  for (const auto& o : outcomes) ASSERT_TRUE(o.status.ok()) << o.status.error_message();
  // Some verify in time, the rest expire; promotions follow.
  for (int i = 0; i < kRace; i += 20) {
    reg::VerifyRegistrationRequest verify;
    verify.set_name(outcomes[i].response.registration().name());
    verify.set_code(p().CodeOf(verify.name()));
    reg::VerifyRegistrationResponse verified;
    stub().VerifyRegistration(Ctx(TestTokens().frontend).get(), verify, &verified);
  }
  ASSERT_TRUE(Eventually([&] {
    return p().Count("SELECT count(*) FROM registration.registrations WHERE event_id = '" +
                     event.substr(event.find('/') + 1) + "' AND hold_expire_time IS NOT NULL") == 0;
  }));
  racing = false;
  watcher.join();
  EXPECT_GT(samples, 0);
  EXPECT_LE(worst, 4);
  auto truth = p().TruthOf(event, "BF");
  EXPECT_EQ(truth.taken, truth.confirmed + truth.pending);
  EXPECT_LE(truth.taken, 4);
  EXPECT_EQ(truth.waitlisted, truth.counted_waitlist);
  // Whoever verified in time and still waits is at the front; seats went to verified people only.
  EXPECT_EQ(
      p().Count("SELECT count(*) FROM registration.registrations WHERE event_id = '" +
                event.substr(event.find('/') + 1) + "' AND status IN (1, 2) AND NOT verified"),
      0);
}

TEST_F(RegistrationE2E, ParticipantKeyGuardsEveryParticipantCall) {
  const std::string event = p().CreateEvent({"CM"}, 4);
  auto mine = MustRegister(event, "mine@justice.cm", "CM");
  auto theirs = MustRegister(event, "theirs@justice.cm", "CM");
  const std::string name = mine.registration().name();
  const std::string key = mine.participant_key();
  std::string forged = key;
  forged[0] = forged[0] == 'A' ? 'B' : 'A';
  const std::vector<std::pair<std::string, std::string>> wrong = {
      {"another person's key", theirs.participant_key()},
      {"a forged key", forged},
      {"a truncated key", key.substr(0, key.size() / 2)},
      {"garbage", std::string(300, 'k')}};
  grpc::Status st;
  GetAs(stub(), name, "", TestTokens().frontend, &st);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << "no key";
  for (const auto& [what, k] : wrong) {
    GetAs(stub(), name, k, TestTokens().frontend, &st);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED) << what;
    reg::UpdateRegistrationRequest update;
    update.mutable_registration()->set_name(name);
    update.mutable_registration()->mutable_participant()->set_job_title("Hijacked");
    update.mutable_update_mask()->add_paths("participant.job_title");
    update.set_participant_key(k);
    reg::UpdateRegistrationResponse updated;
    EXPECT_EQ(
        stub().UpdateRegistration(Ctx(TestTokens().frontend).get(), update, &updated).error_code(),
        grpc::StatusCode::PERMISSION_DENIED)
        << what;
    reg::CancelRegistrationRequest cancel;
    cancel.set_name(name);
    cancel.set_participant_key(k);
    reg::CancelRegistrationResponse cancelled;
    EXPECT_EQ(stub()
                  .CancelRegistration(Ctx(TestTokens().frontend).get(), cancel, &cancelled)
                  .error_code(),
              grpc::StatusCode::PERMISSION_DENIED)
        << what;
  }
  // A registration that does not exist answers like a wrong key: nothing to learn.
  GetAs(stub(), "registrations/" + NewUuid(), key, TestTokens().frontend, &st);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Get(name).participant().job_title(), "Prosecutor") << "nothing changed";
  EXPECT_EQ(Get(name).status(), reg::REGISTRATION_STATUS_CONFIRMED);
  // The right key opens it; admin needs none.
  auto got = GetAs(stub(), name, key, TestTokens().frontend, &st);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(got.participant().email(), "mine@justice.cm");
  GetAs(stub(), name, "", TestTokens().admin, &st);
  EXPECT_TRUE(st.ok());
  // Resending the key answers the same for a registered and an unknown address; only the
  // registered one's mailbox gets it.
  for (const char* email : {"mine@justice.cm", "nobody@justice.cm"}) {
    reg::ResendParticipantKeyRequest resend;
    resend.set_event(event);
    resend.set_email(email);
    reg::ResendParticipantKeyResponse resent;
    EXPECT_TRUE(
        stub().ResendParticipantKey(Ctx(TestTokens().frontend).get(), resend, &resent).ok());
    EXPECT_EQ(resent.ByteSizeLong(), 0u);
  }
  EXPECT_EQ(p().CodeOf(name, "participant_key"), key);
}

TEST_F(RegistrationE2E, NoEnumerationAnExistingAddressLooksNew) {
  const std::string event = p().CreateEvent({"TG"}, 4);
  auto known = MustRegister(event, "known@justice.tg", "TG");
  auto again = RegisterOn(stub(), event, Person("Known@Justice.tg", "TG"), TestTokens().frontend);
  auto fresh = RegisterOn(stub(), event, Person("fresh@justice.tg", "TG"), TestTokens().frontend);
  // The same fields, the same status, the same kind of values.
  auto fields = [](const google::protobuf::Message& m) {
    std::vector<const google::protobuf::FieldDescriptor*> set;
    m.GetReflection()->ListFields(m, &set);
    std::vector<std::string> names;
    for (const auto* f : set) names.push_back(f->name());
    return names;
  };
  EXPECT_EQ(fields(again), fields(fresh));
  EXPECT_EQ(fields(again.registration()), fields(fresh.registration()));
  EXPECT_EQ(again.registration().status(), fresh.registration().status());
  EXPECT_EQ(again.registration().status(), reg::REGISTRATION_STATUS_PENDING_VERIFICATION);
  EXPECT_EQ(again.participant_key().size(), fresh.participant_key().size());
  EXPECT_NE(again.registration().name(), known.registration().name());
  // The key a stranger got opens what they typed, like any registration's.
  grpc::Status st;
  GetAs(stub(), again.registration().name(), again.participant_key(), TestTokens().frontend, &st);
  EXPECT_TRUE(st.ok()) << st.error_message();
  // The address's owner is told, with their own key; the decoy has no code.
  EXPECT_EQ(p().CodeOf(known.registration().name(), "already_registered"), known.participant_key());
  EXPECT_EQ(p().CodeOf(again.registration().name()), "");
  EXPECT_EQ(Get(known.registration().name()).status(), reg::REGISTRATION_STATUS_CONFIRMED);
}

TEST_F(RegistrationE2E, HandOverKeepsTheSeatThroughARace) {
  const std::string event = p().CreateEvent({"GH"}, 2);
  auto a = MustRegister(event, "a.handover@justice.gh", "GH");
  MustRegister(event, "b.handover@justice.gh", "GH");
  reg::UpdateRegistrationRequest update;
  update.mutable_registration()->set_name(a.registration().name());
  auto* colleague = update.mutable_registration()->mutable_participant();
  colleague->set_email("Kwame.Mensah@justice.gh");
  colleague->set_given_name("Kwame");
  colleague->set_family_name("Mensah");
  for (const char* path :
       {"participant.email", "participant.givenName", "participant.family_name"}) {
    update.mutable_update_mask()->add_paths(path);
  }
  update.set_participant_key(a.participant_key());
  reg::UpdateRegistrationResponse updated;
  auto st = stub().UpdateRegistration(Ctx(TestTokens().frontend).get(), update, &updated);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(updated.registration().participant().email(), "a.handover@justice.gh")
      << "nothing changes hands before the colleague verifies";
  EXPECT_TRUE(updated.registration().has_hold_expire_time());
  // Fifty others race for the country meanwhile.
  auto outcomes = RegisterConcurrently({&stub()}, event, "GH", 50, "handover-race");
  for (const auto& o : outcomes) {
    ASSERT_TRUE(o.status.ok());
    EXPECT_GT(o.response.registration().waitlist_position(), 0) << "the seats stay taken";
  }
  reg::VerifyRegistrationRequest verify;
  verify.set_name(a.registration().name());
  verify.set_code(p().CodeOf(verify.name(), "handover_verify"));
  reg::VerifyRegistrationResponse verified;
  st = stub().VerifyRegistration(Ctx(TestTokens().frontend).get(), verify, &verified);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(verified.registration().participant().email(), "kwame.mensah@justice.gh");
  EXPECT_EQ(verified.registration().participant().given_name(), "Kwame");
  EXPECT_EQ(verified.registration().status(), reg::REGISTRATION_STATUS_CONFIRMED);
  EXPECT_EQ(p().TruthOf(event, "GH").taken, 2);
  // Both are told; the previous key stops working, the colleague's (mailed) works.
  EXPECT_EQ(p().Count("SELECT count(*) FROM registration.outbox WHERE kind = 'handed_over' AND"
                      " registration_id = '" +
                      a.registration().name().substr(14) + "'"),
            1);
  const std::string new_key = p().CodeOf(a.registration().name(), "handed_over_to_you");
  ASSERT_FALSE(new_key.empty());
  EXPECT_NE(new_key, a.participant_key());
  GetAs(stub(), a.registration().name(), a.participant_key(), TestTokens().frontend, &st);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  GetAs(stub(), a.registration().name(), new_key, TestTokens().frontend, &st);
  EXPECT_TRUE(st.ok()) << st.error_message();
}

TEST_F(RegistrationE2E, CorrectionsByMaskAndNoneAfterTheEvent) {
  const std::string event = p().CreateEvent({"NE"}, 4);
  auto r = MustRegister(event, "correct.me@justice.ne", "NE");
  reg::UpdateRegistrationRequest update;
  update.mutable_registration()->set_name(r.registration().name());
  update.mutable_registration()->mutable_participant()->set_certificate_name("NAGY E\u0301va");
  update.mutable_registration()->mutable_participant()->set_preferred_language("es");
  update.mutable_update_mask()->add_paths("participant.certificateName");  // JSON spelling
  update.mutable_update_mask()->add_paths("preferred_language");
  update.set_participant_key(r.participant_key());
  reg::UpdateRegistrationResponse updated;
  auto st = stub().UpdateRegistration(Ctx(TestTokens().frontend).get(), update, &updated);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(updated.registration().participant().certificate_name(), "NAGY Éva");
  EXPECT_EQ(updated.registration().participant().preferred_language(), "es");
  EXPECT_EQ(updated.registration().participant().given_name(), "Ngozi") << "outside the mask";
  update.mutable_update_mask()->add_paths("participant.country_code");
  st = stub().UpdateRegistration(Ctx(TestTokens().frontend).get(), update, &updated);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("participant.certificate_name"), std::string::npos)
      << "the answer lists what can be updated: " << st.error_message();
  update.mutable_update_mask()->Clear();
  update.mutable_update_mask()->add_paths("participant.given_name");
  update.mutable_registration()->mutable_participant()->set_given_name("\u200B");
  st = stub().UpdateRegistration(Ctx(TestTokens().frontend).get(), update, &updated);
  EXPECT_EQ(InfoOf(st).metadata().at("field"), "registration.participant.given_name");
  p().Happened(event, "2020-07-09T08:00:00Z", 100);
  cat::CompleteEventRequest complete;
  complete.set_name(event);
  cat::CompleteEventResponse completed;
  ASSERT_TRUE(
      p().catalogue().CompleteEvent(Ctx(TestTokens().admin).get(), complete, &completed).ok());
  update.mutable_registration()->mutable_participant()->set_given_name("Ngozi N.");
  st = stub().UpdateRegistration(Ctx(TestTokens().frontend).get(), update, &updated);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(InfoOf(st).reason(), "EVENT_CLOSED");
}

// After an erasure, nothing in any schema holds the person: every text and bytea column of every
// table, read from information_schema (a new table is covered without editing this test).
TEST_F(RegistrationE2E, ErasureLeavesNothingAnywhere) {
  const std::string event = p().CreateEvent({"BJ"}, 4);
  reg::Participant who = Person("Zinsou.Erase@justice.bj", "BJ");
  who.set_given_name("Houénou");
  who.set_family_name("Zinsou-Agbodjan");
  who.set_organisation("Cour suprême du Bénin (Zinsou)");
  reg::RegisterRequest req;
  req.set_event(event);
  *req.mutable_participant() = who;
  req.set_request_id("erase-all-" + NewUuid());
  reg::RegisterResponse first;
  ASSERT_TRUE(stub().Register(Ctx(TestTokens().frontend).get(), req, &first).ok());
  reg::VerifyRegistrationRequest verify;
  verify.set_name(first.registration().name());
  verify.set_code(p().CodeOf(verify.name()));
  reg::VerifyRegistrationResponse verified;
  ASSERT_TRUE(stub().VerifyRegistration(Ctx(TestTokens().frontend).get(), verify, &verified).ok());
  // A stranger's decoy with the same address, and a correction: more copies to erase.
  RegisterOn(stub(), event, who, TestTokens().frontend);
  reg::ErasePersonalDataRequest erase;
  erase.set_email("zinsou.erase@justice.bj");
  reg::ErasePersonalDataResponse erased;
  ASSERT_TRUE(stub().ErasePersonalData(Ctx(TestTokens().admin).get(), erase, &erased).ok());
  EXPECT_EQ(erased.erased(), 2) << "the registration and the decoy";
  pqxx::connection conn(p().db());
  std::vector<std::string> found;
  {
    pqxx::nontransaction tx(conn);
    for (const auto& col : tx.exec(
             "SELECT table_schema, table_name, column_name, data_type FROM"
             " information_schema.columns WHERE table_schema NOT IN ('pg_catalog',"
             " 'information_schema') AND data_type IN ('text', 'bytea', 'character varying')")) {
      const std::string where_col =
          tx.quote_name(col[0].as<std::string>()) + "." + tx.quote_name(col[1].as<std::string>());
      const std::string column = tx.quote_name(col[2].as<std::string>());
      const bool bytes = col[3].as<std::string>() == "bytea";
      for (const char* needle : {"zinsou.erase@justice.bj", "Zinsou.Erase", "Houénou",
                                 "Zinsou-Agbodjan", "Cour suprême"}) {
        const std::string test = bytes ? "position(convert_to($1, 'UTF8') in " + column + ") > 0"
                                       : "position($1 in " + column + ") > 0";
        if (tx.exec_params("SELECT count(*) FROM " + where_col + " WHERE " + test, needle)[0][0]
                .as<int>() > 0) {
          found.push_back(col[0].as<std::string>() + "." + col[1].as<std::string>() + "." +
                          col[2].as<std::string>() + " holds " + needle);
        }
      }
    }
  }
  EXPECT_EQ(found, std::vector<std::string>{});
  // The same Register replayed is answered without personal data.
  reg::RegisterResponse replay;
  ASSERT_TRUE(stub().Register(Ctx(TestTokens().frontend).get(), req, &replay).ok());
  EXPECT_TRUE(replay.registration().erased());
  EXPECT_EQ(replay.registration().participant().email(), "");
  EXPECT_EQ(replay.registration().participant().given_name(), "");
  EXPECT_EQ(replay.registration().participant().organisation(), "");
}

// The one text rule, through the real binary: refused by name, nothing written, and the log line
// that quotes the input cannot be forged into two lines.
TEST_F(RegistrationE2E, TextRulesRefuseByNameAndLogsStayOneLinePerCall) {
  auto logged = p().StartRegistration({{"ECD_LOG_LEVEL", "info"}});
  ASSERT_TRUE(logged->WaitHealth("SERVING", std::chrono::seconds(30)));
  auto stub = p().Stub(*logged);
  const std::string event = p().CreateEvent({"DJ"}, 4);
  const int64_t before = p().Count("SELECT count(*) FROM registration.registrations");
  struct Case {
    std::string field;
    std::function<void(reg::Participant&)> mutate;
  };
  const std::vector<Case> cases = {
      {"participant.given_name",
       [](auto& p) { p.set_given_name(std::string("Visible\0HIDDEN", 14)); }},
      {"participant.family_name", [](auto& p) { p.set_family_name("\u202Enimda"); }},
      {"participant.given_name", [](auto& p) { p.set_given_name("\u200B\u200B"); }},
      {"participant.given_name", [](auto& p) { p.set_given_name("   "); }},
      {"participant.time_zone", [](auto& p) { p.set_time_zone("posixrules"); }},
      {"participant.time_zone", [](auto& p) { p.set_time_zone("right/UTC"); }},
      {"participant.organisation",
       [](auto& p) {
         p.set_organisation("Ministry\n2026-12-01T00:00:00Z info registration: call method=Admin");
       }},
      {"participant.job_title", [](auto& p) { p.set_job_title("\x1b[31mred\x1b[0m"); }},
      {"participant.email", [](auto& p) { p.set_email("amélie@justice.dj"); }},
      {"participant.email", [](auto& p) { p.set_email("awa@justice.dj\r\nBcc: all@x.org"); }},
  };
  for (const auto& c : cases) {
    reg::Participant who = Person("text-" + NewUuid().substr(0, 8) + "@justice.dj", "DJ");
    c.mutate(who);
    grpc::Status st;
    RegisterOn(*stub, event, who, TestTokens().frontend, &st);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.field;
    EXPECT_EQ(InfoOf(st).metadata().count("field") ? InfoOf(st).metadata().at("field") : "",
              c.field);
  }
  EXPECT_EQ(p().Count("SELECT count(*) FROM registration.registrations"), before);
  // An internationalised domain is kept in its ASCII form, the form mail relays take.
  auto idn = RegisterOn(*stub, event, Person("Awa@Ministère.example.dj", "DJ"), TestTokens().admin);
  EXPECT_EQ(idn.registration().participant().email(), "awa@xn--ministre-60a.example.dj");
  // Every line of the log is one whole line the service wrote: none starts with the injected
  // text, and no raw escape character reached it.
  const std::string log = logged->process().Log();
  EXPECT_EQ(log.find("\n2026-12-01T00:00:00Z info registration: call method=Admin"),
            std::string::npos);
  EXPECT_EQ(log.find('\x1b'), std::string::npos);
}

}  // namespace
}  // namespace ecd::test

// The administrator's day (issue 15): reports that agree with what is listed, spreadsheets,
// batches, one country's seats.
namespace ecd::test {
namespace {

// Every registration of an event, as admin, all pages.
std::vector<reg::Registration> ListAll(reg::RegistrationService::Stub& stub,
                                       const std::string& event) {
  std::vector<reg::Registration> out;
  reg::ListRegistrationsRequest req;
  req.set_event(event);
  req.set_page_size(100);
  for (;;) {
    reg::ListRegistrationsResponse page;
    auto st = stub.ListRegistrations(Ctx(TestTokens().admin).get(), req, &page);
    EXPECT_TRUE(st.ok()) << st.error_message();
    out.insert(out.end(), page.registrations().begin(), page.registrations().end());
    if (!st.ok() || page.next_page_token().empty()) return out;
    req.set_page_token(page.next_page_token());
  }
}

std::string ImportMinutes(reg::RegistrationService::Stub& stub, const std::string& event,
                          const std::vector<std::pair<std::string, int>>& minutes) {
  std::string csv = "User Email,Join Time,Leave Time\n";
  for (const auto& [email, m] : minutes) {
    char leave[32];
    std::snprintf(leave, sizeof leave, "2020-07-09 %02d:%02d", 8 + m / 60, m % 60);
    csv += email + ",2020-07-09 08:00," + leave + "\n";
  }
  reg::ImportAttendanceRequest req;
  req.set_event(event);
  req.set_report_csv(csv);
  reg::ImportAttendanceResponse resp;
  auto st = stub.ImportAttendance(Ctx(TestTokens().admin).get(), req, &resp);
  return st.ok() ? "" : st.error_message();
}

TEST_F(RegistrationE2E, ReportFiguresEqualWhatTheListsShow) {
  const std::string event = p().CreateEvent({"SN", "NG", "ML"}, 2);
  for (const char* email : {"r1@justice.sn", "r2@justice.sn", "r3@justice.sn"}) {
    MustRegister(event, email, "SN");
  }
  RegisterOn(stub(), event, Person("unverified@justice.ng", "NG"), TestTokens().frontend);
  auto gone = MustRegister(event, "gone@justice.ml", "ML");
  reg::CancelRegistrationRequest cancel;
  cancel.set_name(gone.registration().name());
  reg::CancelRegistrationResponse cancelled;
  ASSERT_TRUE(stub().CancelRegistration(Ctx(TestTokens().admin).get(), cancel, &cancelled).ok());
  RegisterOn(stub(), event, Person("admin.made@justice.ml", "ML"), TestTokens().admin);
  p().Happened(event, "2020-07-09T08:00:00Z", 100);
  ASSERT_EQ(
      ImportMinutes(stub(), event,
                    {{"r1@justice.sn", 80}, {"r2@justice.sn", 30}, {"admin.made@justice.ml", 75}}),
      "");
  reg::GetEventReportRequest req;
  req.set_event(event);
  reg::GetEventReportResponse resp;
  auto st = stub().GetEventReport(Ctx(TestTokens().integration).get(), req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  const auto& report = resp.report();
  // Counted independently, from the list an administrator sees.
  std::map<std::string, std::map<int, int>> listed;
  int attended = 0, enough = 0, confirmed = 0;
  for (const auto& r : ListAll(stub(), event)) {
    ++listed[r.participant().country_code()][r.status()];
    if (r.status() == reg::REGISTRATION_STATUS_CONFIRMED) {
      ++confirmed;
      attended += r.attended_minutes() > 0;
      enough += r.attended_minutes() >= report.threshold_minutes();
    }
  }
  EXPECT_EQ(report.threshold_minutes(), 75);
  ASSERT_EQ(report.countries_size(), 3);
  for (const auto& f : report.countries()) {
    SCOPED_TRACE(f.country_code());
    auto& l = listed[f.country_code()];
    EXPECT_EQ(f.confirmed(), l[reg::REGISTRATION_STATUS_CONFIRMED]);
    EXPECT_EQ(f.waitlisted(), l[reg::REGISTRATION_STATUS_WAITLISTED]);
    EXPECT_EQ(f.pending_verification(), l[reg::REGISTRATION_STATUS_PENDING_VERIFICATION]);
    EXPECT_EQ(f.cancelled(), l[reg::REGISTRATION_STATUS_CANCELLED]);
    EXPECT_EQ(f.seats(), 2);
  }
  EXPECT_EQ(report.totals().confirmed(), confirmed);
  EXPECT_EQ(report.totals().attended(), attended);
  EXPECT_EQ(report.totals().attended_enough(), enough);
  EXPECT_EQ(attended, 3);
  EXPECT_EQ(enough, 2);
  EXPECT_EQ(report.attended_enough_per_mille(), enough * 1000 / confirmed);
  EXPECT_FALSE(report.certificates_counted()) << "the certificates service is off here";
  // Unknown events are NOT_FOUND for reports and lists alike.
  req.set_event("events/" + NewUuid());
  EXPECT_EQ(stub().GetEventReport(Ctx(TestTokens().admin).get(), req, &resp).error_code(),
            grpc::StatusCode::NOT_FOUND);
  reg::ListRegistrationsRequest list;
  list.set_event(req.event());
  reg::ListRegistrationsResponse page;
  EXPECT_EQ(stub().ListRegistrations(Ctx(TestTokens().admin).get(), list, &page).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(RegistrationE2E, SeriesReportSumsItsEventsAndCsvOpensInASpreadsheet) {
  cat::CreateSeriesRequest cs;
  cs.mutable_series()->set_title("Series for a report");
  cat::CreateSeriesResponse created;
  ASSERT_TRUE(p().catalogue().CreateSeries(Ctx(TestTokens().admin).get(), cs, &created).ok());
  const std::string series = created.series().name();
  const std::string e1 = p().CreateEvent({"CV", "GW"}, 3, false, true, true, series);
  const std::string e2 = p().CreateEvent({"CV"}, 3, false, true, true, series);
  MustRegister(e1, "a@justice.cv", "CV");
  MustRegister(e1, "b@justice.gw", "GW");
  MustRegister(e2, "c@justice.cv", "CV");
  reg::GetSeriesReportRequest req;
  req.set_series(series);
  req.set_format(reg::EXPORT_FORMAT_CSV);
  reg::GetSeriesReportResponse resp;
  auto st = stub().GetSeriesReport(Ctx(TestTokens().admin).get(), req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  const auto& r = resp.report();
  ASSERT_EQ(r.events_size(), 2);
  int confirmed = 0;
  for (const auto& e : r.events()) confirmed += e.totals().confirmed();
  EXPECT_EQ(r.totals().confirmed(), confirmed);
  EXPECT_EQ(confirmed, 3);
  EXPECT_EQ(std::vector<std::string>(r.countries_reached().begin(), r.countries_reached().end()),
            (std::vector<std::string>{"CV", "GW"}));
  ASSERT_EQ(r.participants_by_affiliation_size(), 1);
  EXPECT_EQ(r.participants_by_affiliation(0).name(), "AFFILIATION_MINISTRY_OF_JUSTICE");
  EXPECT_EQ(r.participants_by_affiliation(0).count(), 3);
  ASSERT_EQ(r.participants_by_region_size(), 1);
  EXPECT_EQ(r.participants_by_region(0).count(), 3);
  // The CSV, read back by Python's csv module: a row per event and the totals.
  const std::string file = TempDir() + "/series.csv";
  std::ofstream(file, std::ios::binary) << resp.csv();
  auto read =
      ecd::test::Run({"/usr/bin/python3", "-c",
                      "import csv,sys\n"
                      "rows=list(csv.reader(open(sys.argv[1],encoding='utf-8-sig',newline='')))\n"
                      "head=rows[0]; i=head.index('confirmed')\n"
                      "print(sum(int(r[i]) for r in rows[1:3]), rows[3][0], rows[3][i])",
                      file});
  ASSERT_EQ(read.exit_code, 0) << read.err;
  EXPECT_EQ(read.out, "3 TOTAL 3\n");
}

TEST_F(RegistrationE2E, CsvExportHasEveryRegistrationOnceAccentsAndNoFormulas) {
  const std::string event = p().CreateEvent({"CI"}, 10);
  std::set<std::string> emails;
  for (const auto& [given, family] : std::vector<std::pair<std::string, std::string>>{
           {"Aïssata", "Koné"}, {"=HYPERLINK(\"http://evil\")", "Trap"}, {"Ngozi", "Ọ̀kọ́njọ"}}) {
    reg::Participant who = Person("csv." + std::to_string(emails.size()) + "@justice.ci", "CI");
    who.set_given_name(given);
    who.set_family_name(family);
    who.set_organisation("Ministère, \"Justice\"");
    emails.insert(who.email());
    RegisterOn(stub(), event, who, TestTokens().admin);
  }
  reg::ExportRegistrationsRequest req;
  req.set_event(event);
  req.set_format(reg::EXPORT_FORMAT_CSV);
  auto ctx = Ctx(TestTokens().admin);
  auto reader = stub().ExportRegistrations(ctx.get(), req);
  reg::ExportRegistrationsResponse msg;
  std::string csv;
  while (reader->Read(&msg)) csv += msg.csv_chunk();
  ASSERT_TRUE(reader->Finish().ok());
  ASSERT_EQ(csv.rfind("\xEF\xBB\xBF", 0), 0u) << "a BOM for spreadsheet programs";
  const std::string file = TempDir() + "/export.csv";
  std::ofstream(file, std::ios::binary) << csv;
  auto read = ecd::test::Run(
      {"/usr/bin/python3", "-c",
       "import csv,sys\n"
       "rows=list(csv.DictReader(open(sys.argv[1],encoding='utf-8-sig',newline='')))\n"
       "for r in sorted(rows, key=lambda r: r['email']):\n"
       "  print(r['email'], r['given_name'], r['family_name'], r['organisation'], sep='|')",
       file});
  ASSERT_EQ(read.exit_code, 0) << read.err;
  EXPECT_EQ(read.out,
            "csv.0@justice.ci|Aïssata|Koné|Ministère, \"Justice\"\n"
            "csv.1@justice.ci|'=HYPERLINK(\"http://evil\")|Trap|Ministère, \"Justice\"\n"
            "csv.2@justice.ci|Ngozi|Ọ̀kọ́njọ|Ministère, \"Justice\"\n");
  req.set_event("events/" + NewUuid());
  auto ctx2 = Ctx(TestTokens().admin);
  auto missing = stub().ExportRegistrations(ctx2.get(), req);
  while (missing->Read(&msg)) {
  }
  EXPECT_EQ(missing->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(RegistrationE2E, BatchApproveAnswersEachItemOnItsOwn) {
  const std::string event = p().CreateEvent({"ZA"}, 10, /*manual=*/true);
  reg::BatchApproveRegistrationsRequest req;
  std::vector<std::string> pending;
  for (int i = 0; i < 8; ++i) {
    pending.push_back(MustRegister(event, "batch" + std::to_string(i) + "@justice.za", "ZA")
                          .registration()
                          .name());
    req.add_names(pending.back());
  }
  req.add_names("registrations/" + NewUuid());  // unknown
  req.add_names("registrations/not-a-uuid");    // malformed
  reg::BatchApproveRegistrationsResponse resp;
  ASSERT_TRUE(stub().BatchApproveRegistrations(Ctx(TestTokens().admin).get(), req, &resp).ok());
  ASSERT_EQ(resp.results_size(), 10);
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(resp.results(i).error_code(), 0) << resp.results(i).error_message();
    EXPECT_EQ(resp.results(i).registration().status(), reg::REGISTRATION_STATUS_CONFIRMED);
  }
  EXPECT_EQ(resp.results(8).error_code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  EXPECT_EQ(resp.results(9).error_code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_EQ(p().TruthOf(event, "ZA").confirmed, 8);
  EXPECT_EQ(p().TruthOf(event, "ZA").pending, 0);
  reg::BatchApproveRegistrationsResponse denied;
  EXPECT_EQ(
      stub().BatchApproveRegistrations(Ctx(TestTokens().frontend).get(), req, &denied).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(RegistrationE2E, ACountrysSeatsUpPromotesExactlyDownNeverBelowTaken) {
  const std::string event = p().CreateEvent({"GH", "TG"}, 2);
  std::vector<std::string> line;
  for (int i = 0; i < 6; ++i) {
    line.push_back(MustRegister(event, "line" + std::to_string(i) + "@justice.gh", "GH")
                       .registration()
                       .name());
  }
  // Raised by two while twenty others race for the same country.
  std::thread racers([&] { RegisterConcurrently({&stub()}, event, "GH", 20, "seats-race"); });
  reg::SetCountrySeatsRequest set;
  set.set_event(event);
  set.set_country_code("GH");
  set.set_seats(4);
  reg::SetCountrySeatsResponse raised;
  auto st = stub().SetCountrySeats(Ctx(TestTokens().admin).get(), set, &raised);
  racers.join();
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(std::vector<std::string>(raised.promoted().begin(), raised.promoted().end()),
            (std::vector<std::string>{line[2], line[3]}))
      << "the first two in line, not a newcomer";
  auto truth = p().TruthOf(event, "GH");
  EXPECT_EQ(truth.taken, 4);
  EXPECT_EQ(truth.confirmed + truth.pending, 4);
  EXPECT_EQ(truth.waitlisted, truth.counted_waitlist);
  EXPECT_EQ(Get(line[2]).status(), reg::REGISTRATION_STATUS_CONFIRMED);
  // Lower than taken: refused, nothing changes; the other country keeps the event's figure.
  set.set_seats(3);
  st = stub().SetCountrySeats(Ctx(TestTokens().admin).get(), set, &raised);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(InfoOf(st).reason(), "SEATS_BELOW_TAKEN");
  EXPECT_EQ(p().TruthOf(event, "GH").taken, 4);
  reg::GetAvailabilityRequest avail;
  avail.set_event(event);
  reg::GetAvailabilityResponse seats;
  ASSERT_TRUE(stub().GetAvailability(Ctx(TestTokens().frontend).get(), avail, &seats).ok());
  for (const auto& c : seats.countries()) {
    EXPECT_EQ(c.limit(), c.country_code() == "GH" ? 4 : 2) << c.country_code();
  }
}

// Whoever holds the frontend token is a stranger: one floods Register for one event and
// country while that quota row is slow (held here by a transaction of the test, as a long
// group would hold it). On a replica that lets 64 calls wait in all and 16 per row:
// - the flood is refused past 16 waiting (RESOURCE_EXHAUSTED), not past 64, so the waiting
//   room stays open to everyone else;
// - the other countries' calls, and another webinar's, are answered while the row is still
//   held: a second group takes them instead of queueing behind the flood on the row's lock;
// - once the row is free, every call let in is answered and the seats are exact.
TEST_F(RegistrationE2E, AStrangersFloodForOneCountryLeavesEveryoneElseServed) {
  auto replica = p().StartRegistration({{"ECD_QUEUE_SIZE", "64"},
                                        {"ECD_REGISTER_ROW_WAITING", "16"},
                                        {"ECD_PG_STATEMENT_TIMEOUT_MS", "120000"}});
  ASSERT_TRUE(replica->WaitHealth("SERVING", std::chrono::seconds(30))) << replica->process().Log();
  auto stub = p().Stub(*replica);
  const std::string event = p().CreateEvent({"NG", "GH", "SN"}, 4);
  const std::string other_event = p().CreateEvent({"NG"}, 4);
  const auto register_one = [&](const std::string& on, const std::string& email,
                                const std::string& country, reg::RegisterResponse* resp) {
    reg::RegisterRequest req;
    req.set_event(on);
    *req.mutable_participant() = Person(email, country);
    req.set_request_id("flood-" + NewUuid());
    return stub->Register(Ctx(TestTokens().frontend).get(), req, resp);
  };
  reg::RegisterResponse first;
  ASSERT_TRUE(register_one(event, "chinedu.eze@justice.gov.ng", "NG", &first).ok());

  // The row is held: the flood's first group waits on it in PostgreSQL.
  pqxx::connection holder(p().db());
  auto hold = std::make_unique<pqxx::work>(holder);
  hold->exec_params(
      "SELECT 1 FROM registration.quotas WHERE event_id = $1 AND country = 'NG' FOR UPDATE",
      event.substr(event.find('/') + 1));
  constexpr int kFlood = 100, kRow = 16, kGroup = 8;
  RegisterCalls flood({stub.get()}, event, "NG", kFlood, "flood");
  // The first group took 1 to 8 calls, 16 wait: the rest are refused at once.
  ASSERT_TRUE(WaitFor([&] { return flood.Done() >= kFlood - kGroup - kRow; },
                      std::chrono::seconds(60), std::chrono::milliseconds(10)))
      << flood.Done() << " of " << kFlood << " answered while the row is held";
  ASSERT_TRUE(WaitFor(
      [&] {
        return p().Count(
                   "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                   " AND datname = current_database() AND query ILIKE '%register_group%'") > 0;
      },
      std::chrono::seconds(30), std::chrono::milliseconds(20)));

  // Everyone else is served while the row is still held.
  reg::RegisterResponse ghana, senegal, elsewhere, more;
  grpc::Status st = register_one(event, "ama.mensah@mint.gov.gh", "GH", &ghana);
  EXPECT_TRUE(st.ok()) << st.error_code() << " " << st.error_message();
  EXPECT_EQ(ghana.registration().status(), reg::REGISTRATION_STATUS_PENDING_VERIFICATION);
  EXPECT_EQ(ghana.registration().waitlist_position(), 0);
  st = register_one(event, "aminata.diallo@justice.gouv.sn", "SN", &senegal);
  EXPECT_TRUE(st.ok()) << st.error_code() << " " << st.error_message();
  st = register_one(other_event, "ngozi.adeyemi@efcc.gov.ng", "NG", &elsewhere);
  EXPECT_TRUE(st.ok()) << st.error_code() << " " << st.error_message();
  // The flooded row itself refuses more while it is full.
  st = register_one(event, "late.caller@justice.gov.ng", "NG", &more);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << st.error_message();
  EXPECT_LT(flood.Done(), kFlood) << "the flood's accepted calls wait for the row";

  hold->abort();
  hold.reset();
  const auto outcomes = flood.Wait();
  int accepted = 0, refused = 0;
  for (const auto& o : outcomes) {
    if (o.status.ok()) {
      ++accepted;
    } else {
      EXPECT_EQ(o.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
          << o.status.error_message();
      EXPECT_EQ(InfoOf(o.status).reason(), "OVERLOADED");
      ++refused;
    }
  }
  EXPECT_GE(accepted, kRow + 1);
  EXPECT_LE(accepted, kRow + kGroup);
  // Exact seats: the first participant and 3 of the flood hold NG's 4; the others wait.
  const auto truth = p().TruthOf(event, "NG");
  EXPECT_EQ(truth.taken, 4);
  EXPECT_EQ(truth.confirmed, 4);
  EXPECT_EQ(truth.waitlisted, accepted + 1 - 4);
  EXPECT_EQ(p().TruthOf(event, "GH").taken, 1);
  // The operator reads what the refusals were for, once, and about nobody.
  const std::string log = replica->process().Log();
  EXPECT_NE(log.find("Register refused as overloaded"), std::string::npos) << log;
  EXPECT_NE(log.find("of them for " + event + " country NG"), std::string::npos) << log;
  EXPECT_EQ(log.find("justice.example.org"), std::string::npos) << "an address in the log";
  // The row takes calls again once its backlog is through.
  st = register_one(event, "late.caller@justice.gov.ng", "NG", &more);
  EXPECT_TRUE(st.ok()) << st.error_code() << " " << st.error_message();
  EXPECT_EQ(more.registration().waitlist_position(), accepted + 1 - 4 + 1);
  // A refused call left nothing behind: retried with its request_id, it registers (it is not
  // answered with the refusal again), and retried once more, it gets the same registration.
  int retried = 0;
  for (int i = 0; i < kFlood && retried < 3; ++i) {
    if (outcomes[i].status.ok()) continue;
    ++retried;
    reg::RegisterResponse first_try, second_try;
    st = stub->Register(Ctx(TestTokens().frontend).get(), flood.Request(i), &first_try);
    ASSERT_TRUE(st.ok()) << st.error_code() << " " << st.error_message();
    EXPECT_EQ(first_try.registration().waitlist_position(), accepted + 1 - 4 + 1 + retried);
    st = stub->Register(Ctx(TestTokens().frontend).get(), flood.Request(i), &second_try);
    ASSERT_TRUE(st.ok()) << st.error_code() << " " << st.error_message();
    EXPECT_EQ(second_try.registration().name(), first_try.registration().name());
  }
  EXPECT_EQ(retried, 3);
  EXPECT_EQ(p().TruthOf(event, "NG").waitlisted, accepted + 1 - 4 + 1 + 3);
}

}  // namespace
}  // namespace ecd::test
