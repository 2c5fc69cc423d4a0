// Register's grouped commits (issue 12) against the real PostgreSQL: calls that arrive while a
// group runs are committed together in the next one, and a call the database refuses (an address
// registered already, a request id used for another request) gets its own answer while the
// others commit.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "common/crypto.hpp"
#include "common/metrics.hpp"
#include "common/migrations.hpp"
#include "common/pg.hpp"
#include "services/registration/participant_keys.hpp"
#include "services/registration/repository.hpp"
#include "tests/harness/harness.hpp"
#include "tests/harness/wait_for.hpp"

namespace ecd::registration {
const std::vector<ecd::Migration>& Migrations();
}  // namespace ecd::registration

namespace ecd::registration {
namespace {

v1::Participant Person(const std::string& given, const std::string& family,
                       const std::string& email, const std::string& country,
                       const std::string& language, const std::string& zone) {
  v1::Participant p;
  p.set_given_name(given);
  p.set_family_name(family);
  p.set_email(email);
  p.set_country_code(country);
  p.set_organisation("Ministry of Justice");
  p.set_affiliation(v1::AFFILIATION_MINISTRY_OF_JUSTICE);
  p.set_job_title("Prosecutor");
  p.set_preferred_language(language);
  p.set_time_zone(zone);
  p.set_privacy_consent(true);
  return p;
}

std::string IdOf(const std::string& name) { return name.substr(name.find('/') + 1); }

// The count of groups of 9 to 16 calls the process has committed (a histogram bucket difference).
double GroupsOfNineToSixteen() {
  const std::string text = MetricsText();
  auto bucket = [&](const std::string& le) {
    const std::string key = "ecd_register_group_size_bucket{le=\"" + le + "\"} ";
    const size_t at = text.find(key);
    return at == std::string::npos ? 0.0 : std::stod(text.substr(at + key.size()));
  };
  return bucket("16") - bucket("8");
}

class RegisterGroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = test::NewDatabaseUrl("grp");
    PgPool::Options o;
    o.url = url_;
    o.size = 4;
    pool_ = std::make_unique<PgPool>(o);
    auto report = RunMigrations(*pool_, "registration", Migrations());
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    // One group at a time, so that calls arriving during a group wait for the next one.
    repo_ = std::make_unique<Repository>(*pool_, keys_, RegisterGrouping{1, 32});
  }

  int64_t Count(const std::string& statement) {
    pqxx::connection conn(url_);
    pqxx::nontransaction tx(conn);
    return tx.exec(statement)[0][0].as<int64_t>();
  }

  static constexpr std::chrono::milliseconds kWait{20000}, kPoll{2};
  // Whether a statement of the test's database came to wait on a row lock (a group stalled on a
  // quota row the test holds), within kWait.
  bool WaitForALockWait() {
    return test::WaitFor(
        [&] {
          return Count(
                     "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                     " AND datname = current_database()") > 0;
        },
        kWait, kPoll);
  }

  // One Register call, and its answer once it has returned.
  struct Call {
    const EventRules* event;
    v1::Participant person;
    std::string request_id, hash;
    std::optional<StatusOr<Change>> result;
  };

  // Runs `first` as a group of its own, stalled in PostgreSQL on the quota row of (`event`,
  // `country`), held from another session; queues `calls` behind it one at a time (so that the
  // next group's order is their order), then lets the row go. Returns once every call answered.
  void RunBehindAStalledGroup(const EventRules& event, const std::string& country, Call& first,
                              std::vector<Call>& calls) {
    auto run = [this](Call& c) {
      c.result = repo_->Register(*c.event, c.person, c.request_id, c.hash);
    };
    pqxx::connection blocker(url_);
    pqxx::work hold(blocker);
    hold.exec("SELECT 1 FROM registration.quotas WHERE event_id = '" + event.id +
              "' AND country = '" + country + "' FOR UPDATE");
    std::vector<std::thread> threads;
    threads.emplace_back([&] { run(first); });
    bool queued = WaitForALockWait();
    EXPECT_TRUE(queued) << "the first group never waited on the row lock";
    for (size_t i = 0; queued && i < calls.size(); ++i) {
      const size_t before = repo_->RegistersWaiting();
      threads.emplace_back([&, i] { run(calls[i]); });
      queued = test::WaitFor([&] { return repo_->RegistersWaiting() == before + 1; }, kWait, kPoll);
      EXPECT_TRUE(queued) << calls[i].request_id << " never queued";
    }
    hold.abort();  // also when something failed: every thread ends
    for (auto& t : threads) t.join();
  }

  std::string url_;
  ParticipantKeys keys_{"group-test-secret-0123456789"};
  std::unique_ptr<PgPool> pool_;
  std::unique_ptr<Repository> repo_;
};

TEST_F(RegisterGroupTest, OneRefusalInAGroupIsThatCallsAlone) {
  // Two seats per country; the second event verifies addresses by mail (decoys).
  const EventRules event{NewUuid(), 2, false, false, 0};
  const EventRules verified{NewUuid(), 4, false, true, int64_t{600} * 1000000};
  auto before = repo_->Register(
      event,
      Person("Aminata", "Diallo", "aminata.diallo@justice.gouv.sn", "SN", "fr", "Africa/Dakar"),
      "req-before", "hash-before");
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  auto lan = repo_->Register(
      verified,
      Person("Lan", "Nguyễn Thị", "lan.nguyen@moj.gov.vn", "VN", "en", "Asia/Ho_Chi_Minh"),
      "req-lan", "hash-lan");
  ASSERT_TRUE(lan.ok()) << lan.status().ToString();
  const double groups_before = GroupsOfNineToSixteen();

  // Moussa's group waits on Senegal's quota row; the ten calls queue behind it.
  Call first{
      &event,
      Person("Moussa", "Ndiaye", "moussa.ndiaye@justice.gouv.sn", "SN", "fr", "Africa/Dakar"),
      "req-0", "h0"};
  std::vector<Call> calls;
  calls.push_back(
      {&event, Person("Kwame", "Mensah", "kwame.mensah@mint.gov.gh", "GH", "en", "Africa/Accra"),
       "req-1", "h1"});
  // The same address as the first registration, from another country: refused alone.
  calls.push_back(
      {&event,
       Person("Aminata", "Diallo", "aminata.diallo@justice.gouv.sn", "CI", "fr", "Africa/Abidjan"),
       "req-2", "h2"});
  // The first registration's request id with another request: refused alone.
  calls.push_back(
      {&event, Person("Ana", "Pérez", "ana.perez@pgr.gob.mx", "MX", "es", "America/Mexico_City"),
       "req-before", "another-hash"});
  // The first registration's request, retried: its first answer.
  calls.push_back(
      {&event,
       Person("Aminata", "Diallo", "aminata.diallo@justice.gouv.sn", "SN", "fr", "Africa/Dakar"),
       "req-before", "hash-before"});
  calls.push_back(
      {&event,
       Person("José", "Hernández", "jose.hernandez@fgr.gob.mx", "MX", "es", "America/Mexico_City"),
       "req-5", "h5"});
  // Senegal's third: after Moussa (the blocked group) the two seats are gone.
  calls.push_back({&event,
                   Person("Fatou", "Sow", "fatou.sow@justice.gouv.sn", "SN", "fr", "Africa/Dakar"),
                   "req-6", "h6"});
  calls.push_back(
      {&event, Person("فاطمة", "الزهراء", "fatima.zahra@moj.gov.eg", "EG", "ar", "Africa/Cairo"),
       "req-7", "h7"});
  // One address from two countries, China first: the first to arrive gets the place, whatever
  // the countries' order (Afghanistan sorts first).
  calls.push_back({&event,
                   Person("Wei", "Chen", "chen.wei@mps.gov.cn", "CN", "en", "Asia/Shanghai"),
                   "req-9", "h9"});
  calls.push_back({&event, Person("Wei", "Chen", "chen.wei@mps.gov.cn", "AF", "en", "Asia/Kabul"),
                   "req-10", "h10"});
  // Lan's address again for the verified event: a decoy hold, answered like any other.
  calls.push_back(
      {&verified,
       Person("Lan", "Nguyễn Thị", "lan.nguyen@moj.gov.vn", "VN", "en", "Asia/Ho_Chi_Minh"),
       "req-8", "h8"});
  ASSERT_NO_FATAL_FAILURE(RunBehindAStalledGroup(event, "SN", first, calls));

  // The ten calls were committed as one group.
  EXPECT_EQ(GroupsOfNineToSixteen() - groups_before, 1.0);
  ASSERT_TRUE(first.result.has_value());
  ASSERT_TRUE(first.result->ok()) << first.result->status().ToString();
  EXPECT_EQ((*first.result)->registration.status(), v1::REGISTRATION_STATUS_CONFIRMED);
  for (const Call& c : calls) ASSERT_TRUE(c.result.has_value()) << c.request_id;
  auto status_of = [&](size_t i) { return (*calls[i].result)->registration.status(); };
  ASSERT_TRUE(calls[0].result->ok()) << calls[0].result->status().ToString();
  EXPECT_EQ(status_of(0), v1::REGISTRATION_STATUS_CONFIRMED);
  EXPECT_EQ(calls[1].result->status().code(), Code::kAlreadyExists);
  EXPECT_EQ(calls[1].result->status().reason(), "ALREADY_REGISTERED");
  EXPECT_EQ(calls[2].result->status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(calls[2].result->status().reason(), "REQUEST_ID_REUSED");
  ASSERT_TRUE(calls[3].result->ok()) << calls[3].result->status().ToString();
  EXPECT_TRUE((*calls[3].result)->replayed);
  EXPECT_EQ((*calls[3].result)->registration.name(), before->registration.name());
  ASSERT_TRUE(calls[4].result->ok()) << calls[4].result->status().ToString();
  EXPECT_EQ(status_of(4), v1::REGISTRATION_STATUS_CONFIRMED);
  ASSERT_TRUE(calls[5].result->ok()) << calls[5].result->status().ToString();
  EXPECT_EQ(status_of(5), v1::REGISTRATION_STATUS_WAITLISTED);
  EXPECT_EQ((*calls[5].result)->registration.waitlist_position(), 1);
  ASSERT_TRUE(calls[6].result->ok()) << calls[6].result->status().ToString();
  EXPECT_EQ(status_of(6), v1::REGISTRATION_STATUS_CONFIRMED);
  EXPECT_EQ((*calls[6].result)->registration.participant().given_name(), "فاطمة");
  ASSERT_TRUE(calls[7].result->ok()) << calls[7].result->status().ToString();
  EXPECT_EQ(status_of(7), v1::REGISTRATION_STATUS_CONFIRMED);
  EXPECT_EQ((*calls[7].result)->registration.participant().country_code(), "CN");
  EXPECT_EQ(calls[8].result->status().reason(), "ALREADY_REGISTERED");
  ASSERT_TRUE(calls[9].result->ok()) << calls[9].result->status().ToString();
  EXPECT_EQ(status_of(9), v1::REGISTRATION_STATUS_PENDING_VERIFICATION);

  // One transaction wrote the outbox rows of the group's accepted calls (not one each).
  std::string ids = "'" + IdOf(lan->registration.name()) + "'";  // the decoy's mail goes to Lan's
  for (size_t i : {0, 4, 5, 6, 7}) {
    const std::string& name = (*calls[i].result)->registration.name();
    ids += ", '" + IdOf(name) + "'";
  }
  // (Lan's own rows from her first registration aside: kinds the decoy does not write.)
  EXPECT_EQ(Count("SELECT count(DISTINCT xmin::text) FROM registration.outbox WHERE"
                  " registration_id IN (" +
                  ids + ") AND kind NOT IN ('verify_email')"),
            1);

  // What committed: the rows of the accepted calls and nothing of the refused ones.
  EXPECT_EQ(
      Count("SELECT count(*) FROM registration.registrations WHERE event_id = '" + event.id + "'"),
      7);  // Aminata, Moussa, Kwame, José, Fatou, Fatima, Wei (in China)
  EXPECT_EQ(Count("SELECT count(*) FROM registration.registrations WHERE country = 'CI'"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM registration.registrations WHERE country = 'AF'"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM registration.registrations WHERE decoy"), 1);
  // Each accepted registration: one row, where it stands; the decoy: one mail to Lan's own
  // registration saying she is registered already.
  EXPECT_EQ(Count("SELECT count(*) FROM registration.outbox WHERE kind = 'already_registered'"
                  " AND registration_id = '" +
                  IdOf(lan->registration.name()) + "'"),
            1);
  // Aminata before, Moussa, then Kwame, José, Fatima and Wei; Fatou waits.
  EXPECT_EQ(Count("SELECT count(*) FROM registration.outbox o JOIN registration.registrations r"
                  " ON r.id = o.registration_id WHERE r.event_id = '" +
                  event.id + "'"),
            7);
  EXPECT_EQ(Count("SELECT count(*) FROM registration.outbox WHERE kind = 'confirmed'"), 1 + 1 + 4);
  EXPECT_EQ(Count("SELECT count(*) FROM registration.outbox WHERE kind = 'waitlisted'"), 1);
  // Kept answers: the two before, the first group's, and this group's six accepted and the decoy
  // (not req-2's, req-10's, nor a second one for req-before).
  EXPECT_EQ(Count("SELECT count(*) FROM registration.idempotency_keys WHERE response IS NOT NULL"),
            2 + 1 + 6);
  EXPECT_EQ(Count("SELECT count(*) FROM registration.idempotency_keys WHERE request_id = 'req-2'"),
            0);
  EXPECT_EQ(Count("SELECT taken FROM registration.quotas WHERE event_id = '" + event.id +
                  "' AND country = 'SN'"),
            2);
  EXPECT_EQ(Count("SELECT waitlisted FROM registration.quotas WHERE event_id = '" + event.id +
                  "' AND country = 'SN'"),
            1);
}

// Nobody waits for a Register call: while a group is stalled in PostgreSQL, forty more calls
// are handed in from one thread, and the thread goes on at once (before, each call held a thread
// until its group ended). The stalled group's leader then runs them, and answers each on its own
// thread, with the places one by one would give.
TEST_F(RegisterGroupTest, CallsHandedInBehindAStalledGroupHoldNoThread) {
  const EventRules event{NewUuid(), 4, false, false, 0};
  struct Country {
    std::string code, given, family, domain, zone;
  };
  const std::vector<Country> countries = {
      {"BR", "João", "Silva", "mj.gov.br", "America/Sao_Paulo"},
      {"AR", "María", "Fernández", "jus.gob.ar", "America/Argentina/Buenos_Aires"},
      {"PE", "Luis", "Quispe Mamani", "minjus.gob.pe", "America/Lima"},
      {"CL", "Camila", "Rojas", "minjusticia.gob.cl", "America/Santiago"},
      {"CO", "Andrés", "Gómez", "fiscalia.gov.co", "America/Bogota"}};
  pqxx::connection blocker(url_);
  pqxx::work hold(blocker);
  auto first = repo_->Register(
      event, Person("Ana", "Souza", "ana.souza@mj.gov.br", "BR", "pt", "America/Sao_Paulo"),
      "stall-before", "h");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  hold.exec("SELECT 1 FROM registration.quotas WHERE event_id = '" + event.id +
            "' AND country = 'BR' FOR UPDATE");
  std::thread::id leader_id;
  std::optional<StatusOr<Change>> stalled;
  std::thread leader([&] {
    leader_id = std::this_thread::get_id();
    stalled = repo_->Register(
        event, Person("Pedro", "Alves", "pedro.alves@mj.gov.br", "BR", "pt", "America/Sao_Paulo"),
        "stall-0", "h");
  });
  ASSERT_TRUE(WaitForALockWait()) << "the first group never waited on the row lock";

  constexpr int kEach = 8;
  std::mutex mu;
  std::vector<std::pair<std::string, StatusOr<Change>>> answers;  // by request id
  std::vector<std::thread::id> answered_on;
  std::atomic<bool> posted{false};
  std::thread poster([&] {
    for (int i = 0; i < kEach; ++i) {
      for (const Country& c : countries) {
        const std::string id = c.code + "-" + std::to_string(i);
        repo_->RegisterAsync(event,
                             Person(c.given, c.family, "p" + std::to_string(i) + "@" + c.domain,
                                    c.code, "es", c.zone),
                             id, "h", [&, id](StatusOr<Change> change) {
                               std::lock_guard lock(mu);
                               answers.emplace_back(id, std::move(change));
                               answered_on.push_back(std::this_thread::get_id());
                             });
      }
    }
    posted = true;
  });
  // Every call handed in while the row is still locked: no call waited for its answer.
  const bool all_posted = test::WaitFor([&] { return posted.load(); }, kWait, kPoll);
  EXPECT_TRUE(all_posted) << "handing calls in waited for the stalled group";
  EXPECT_EQ(repo_->RegistersWaiting(), countries.size() * kEach);
  {
    std::lock_guard lock(mu);
    EXPECT_TRUE(answers.empty());
  }
  hold.abort();
  poster.join();
  leader.join();
  ASSERT_TRUE(stalled.has_value() && stalled->ok());
  std::lock_guard lock(mu);
  ASSERT_EQ(answers.size(), countries.size() * kEach);
  for (const auto& on : answered_on) EXPECT_EQ(on, leader_id);  // the leader answered them all
  // Brazil had two seats taken before (Ana, Pedro): two more, then the waiting list; the other
  // countries four seats each, then the waiting list, in the order the calls were handed in.
  for (const auto& [id, change] : answers) {
    ASSERT_TRUE(change.ok()) << id << ": " << change.status().ToString();
    const int i = std::stoi(id.substr(3));
    const int free = id.rfind("BR", 0) == 0 ? 2 : 4;
    EXPECT_EQ(change->registration.status(),
              i < free ? v1::REGISTRATION_STATUS_CONFIRMED : v1::REGISTRATION_STATUS_WAITLISTED)
        << id;
    EXPECT_EQ(change->registration.waitlist_position(), i < free ? 0 : i - free + 1) << id;
  }
  EXPECT_EQ(repo_->RegistersWaiting(), 0u);
  EXPECT_EQ(
      Count("SELECT count(*) FROM registration.registrations WHERE event_id = '" + event.id + "'"),
      2 + static_cast<int64_t>(countries.size()) * kEach);
}

// A group over three countries gets the places one by one would: seats in arrival order while
// the country has free ones, then the waiting list in arrival order. Without surprises (no e-mail
// verification, every address and key new) and of 4 or more, it is decided at once, set-based.
TEST_F(RegisterGroupTest, AGroupDecidesSeatsAndTheWaitingListInArrivalOrder) {
  const EventRules event{NewUuid(), 2, false, false, 0};
  auto before = repo_->Register(
      event, Person("Awa", "Diop", "awa.diop@justice.gouv.sn", "SN", "fr", "Africa/Dakar"),
      "fast-before", "h");
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  // Ousmane's group waits on Senegal's quota row; the six calls queue behind it.
  Call first{&event,
             Person("Ousmane", "Fall", "ousmane.fall@justice.gouv.sn", "SN", "fr", "Africa/Dakar"),
             "fast-0", "h"};
  std::vector<Call> calls;
  calls.push_back(
      {&event, Person("Kofi", "Annan", "kofi@mfa.gov.gh", "GH", "en", "Africa/Accra"), "f1", "h"});
  calls.push_back({&event,
                   Person("Mariama", "Ba", "mariama@justice.gouv.sn", "SN", "fr", "Africa/Dakar"),
                   "f2", "h"});
  calls.push_back({&event,
                   Person("Cheikh", "Anta", "cheikh@justice.gouv.sn", "SN", "fr", "Africa/Dakar"),
                   "f3", "h"});
  calls.push_back(
      {&event, Person("Ama", "Ata", "ama@mfa.gov.gh", "GH", "en", "Africa/Accra"), "f4", "h"});
  calls.push_back({&event, Person("Yaa", "Asantewaa", "yaa@mfa.gov.gh", "GH", "en", "Africa/Accra"),
                   "f5", "h"});
  calls.push_back(
      {&event,
       Person("Rigoberta", "Menchú", "rigoberta@mp.gob.gt", "GT", "es", "America/Guatemala"), "f6",
       "h"});
  ASSERT_NO_FATAL_FAILURE(RunBehindAStalledGroup(event, "SN", first, calls));

  ASSERT_TRUE(first.result.has_value());
  ASSERT_TRUE(first.result->ok()) << first.result->status().ToString();
  EXPECT_EQ((*first.result)->registration.status(), v1::REGISTRATION_STATUS_CONFIRMED);  // SN 2/2
  const std::vector<std::pair<v1::RegistrationStatus, int>> expected = {
      {v1::REGISTRATION_STATUS_CONFIRMED, 0},   // Kofi, GH 1 of 2
      {v1::REGISTRATION_STATUS_WAITLISTED, 1},  // Mariama: Senegal is full
      {v1::REGISTRATION_STATUS_WAITLISTED, 2},  // Cheikh
      {v1::REGISTRATION_STATUS_CONFIRMED, 0},   // Ama, GH 2 of 2
      {v1::REGISTRATION_STATUS_WAITLISTED, 1},  // Yaa: Ghana is full
      {v1::REGISTRATION_STATUS_CONFIRMED, 0},   // Rigoberta, GT 1 of 2
  };
  std::string ids;
  for (size_t i = 0; i < calls.size(); ++i) {
    ASSERT_TRUE(calls[i].result.has_value() && calls[i].result->ok()) << calls[i].request_id;
    const v1::Registration& reg = (*calls[i].result)->registration;
    EXPECT_EQ(reg.status(), expected[i].first) << calls[i].request_id;
    EXPECT_EQ(reg.waitlist_position(), expected[i].second) << calls[i].request_id;
    EXPECT_TRUE(reg.has_create_time());
    ids += std::string(ids.empty() ? "'" : ", '") + IdOf(reg.name()) + "'";
  }
  // Decided at once: one statement wrote the group's registrations (one xmin), not one
  // subtransaction each.
  EXPECT_EQ(
      Count("SELECT count(DISTINCT xmin::text) FROM registration.registrations WHERE id IN (" +
            ids + ")"),
      1);
  // The database agrees: counters, and the waiting list in arrival order.
  auto quota = [&](const std::string& country, const std::string& column) {
    return Count("SELECT " + column + " FROM registration.quotas WHERE event_id = '" + event.id +
                 "' AND country = '" + country + "'");
  };
  EXPECT_EQ(quota("SN", "taken"), 2);
  EXPECT_EQ(quota("SN", "waitlisted"), 2);
  EXPECT_EQ(quota("GH", "taken"), 2);
  EXPECT_EQ(quota("GH", "waitlisted"), 1);
  EXPECT_EQ(quota("GT", "taken"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM registration.registrations r1 JOIN"
                  " registration.registrations r2 ON r2.email = 'cheikh@justice.gouv.sn'"
                  " WHERE r1.email = 'mariama@justice.gouv.sn' AND r1.waitlist_seq + 1 ="
                  " r2.waitlist_seq"),
            1);
  EXPECT_EQ(
      Count("SELECT count(*) FROM registration.outbox WHERE registration_id IN (" + ids + ")"), 6);
  EXPECT_EQ(Count("SELECT count(*) FROM registration.idempotency_keys WHERE request_id LIKE 'f_'"
                  " AND response IS NOT NULL"),
            6);
}

// The seat recount behind the counters (migrations 001 and 010): whatever a writer does to the
// registrations without the quota counter, seat holders never outnumber the seats. Since one
// statement inserts a whole group, the recount runs once per inserting statement, from its new
// rows: an over-booking statement fails as a whole, whether it brings one holder too many or
// several, and whichever of its quota rows it over-books.
TEST_F(RegisterGroupTest, TheSeatRecountRefusesAnOverBookingTheCountersMissed) {
  const EventRules event{NewUuid(), 2, false, false, 0};
  for (const auto& [given, family, email, country, zone] :
       std::vector<std::tuple<std::string, std::string, std::string, std::string, std::string>>{
           {"Ngozi", "Okonkwo", "ngozi.okonkwo@justice.gov.ng", "NG", "Africa/Lagos"},
           {"Kwame", "Mensah", "kwame.mensah@mint.gov.gh", "GH", "Africa/Accra"}}) {
    auto r = repo_->Register(event, Person(given, family, email, country, "en", zone),
                             "recount-" + country, "h");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  // Rows written behind the counters' back: a confirmed (1) or waiting (3) registration.
  auto row = [&](const std::string& country, const std::string& email, int status, int seq) {
    return "('" + NewUuid() + "', '" + event.id + "', '" + country + "', '" + email + "', '" +
           email + "', 'Given', 'Family', 1, 'en', 'UTC', true, " + std::to_string(status) + ", " +
           (seq == 0 ? std::string("NULL") : std::to_string(seq)) + ")";
  };
  auto insert = [&](const std::vector<std::string>& rows) -> std::string {
    pqxx::connection conn(url_);
    pqxx::work tx(conn);
    std::string sql =
        "INSERT INTO registration.registrations (id, event_id, country, email, email_norm, "
        "given_name, family_name, affiliation, preferred_language, time_zone, privacy_consent, "
        "status, waitlist_seq) VALUES ";
    for (size_t i = 0; i < rows.size(); ++i) sql += (i == 0 ? "" : ", ") + rows[i];
    try {
      tx.exec(sql);
      tx.commit();
      return "";
    } catch (const pqxx::sql_error& e) {
      return e.sqlstate();
    }
  };
  // Nigeria has 1 holder of 2 seats: one more fits, two more in one statement do not.
  EXPECT_EQ(insert({row("NG", "a@example.ng", 1, 0), row("NG", "b@example.ng", 1, 0)}), "23514");
  // Several quota rows in one statement: Ghana's over-booking fails it, Nigeria's row with it.
  EXPECT_EQ(insert({row("NG", "c@example.ng", 1, 0), row("GH", "d@example.gh", 1, 0),
                    row("GH", "e@example.gh", 1, 0)}),
            "23514");
  EXPECT_EQ(
      Count("SELECT count(*) FROM registration.registrations WHERE event_id = '" + event.id + "'"),
      2);
  EXPECT_EQ(insert({row("NG", "f@example.ng", 1, 0), row("NG", "g@example.ng", 3, 1)}), "");
  // A waiting registration given a seat the country does not have: the recount by row.
  pqxx::connection conn(url_);
  pqxx::work tx(conn);
  EXPECT_THROW(tx.exec("UPDATE registration.registrations SET status = 1, waitlist_seq = NULL"
                       " WHERE email = 'g@example.ng'"),
               pqxx::check_violation);
}

// The catalogue's figures reach the quota row with the next Register call (lock_quotas): a limit
// raised or lowered (never below the seats taken), an approval mode switched, and an
// administrator's override of the country's seats winning over the catalogue's limit. The row is
// created by the first call only; every later call finds it.
TEST_F(RegisterGroupTest, AQuotaRowFollowsTheCataloguesLimitAndApprovalMode) {
  const std::string id = NewUuid();
  auto quota = [&](const std::string& column) {
    return Count("SELECT " + column + " FROM registration.quotas WHERE event_id = '" + id +
                 "' AND country = 'KE'");
  };
  int n = 0;
  auto reg = [&](const EventRules& rules, const std::string& given, const std::string& family) {
    const std::string req = "follow-" + std::to_string(++n);
    auto r = repo_->Register(
        rules, Person(given, family, req + "@odpp.go.ke", "KE", "en", "Africa/Nairobi"), req, "h");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->registration.status() : v1::REGISTRATION_STATUS_UNSPECIFIED;
  };
  EXPECT_EQ(reg({id, 1, false, false, 0}, "Wanjiru", "Kamau"), v1::REGISTRATION_STATUS_CONFIRMED);
  EXPECT_EQ(quota("seat_limit"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM registration.quotas WHERE event_id = '" + id + "'"), 1);
  // Raised to 2: the second one has a seat (without the update: waitlisted).
  EXPECT_EQ(reg({id, 2, false, false, 0}, "Otieno", "Odhiambo"), v1::REGISTRATION_STATUS_CONFIRMED);
  EXPECT_EQ(quota("seat_limit"), 2);
  // Raised to 3, and approval by hand from now on.
  EXPECT_EQ(reg({id, 3, true, false, 0}, "Achieng", "Atieno"),
            v1::REGISTRATION_STATUS_PENDING_APPROVAL);
  EXPECT_EQ(quota("manual_approval::int"), 1);
  // An administrator gave Kenya 5 seats: the override wins over the catalogue's 1.
  Count("UPDATE registration.quotas SET seat_override = 5 WHERE event_id = '" + id +
        "' AND country = 'KE' RETURNING 1");
  EXPECT_EQ(reg({id, 1, false, false, 0}, "Njeri", "Wambui"), v1::REGISTRATION_STATUS_CONFIRMED);
  EXPECT_EQ(quota("seat_limit"), 5);
  EXPECT_EQ(quota("manual_approval::int"), 0);
  // The override gone, the catalogue's 1 is below the 4 seats taken: the limit stays at 4, and
  // the next one waits.
  Count("UPDATE registration.quotas SET seat_override = NULL WHERE event_id = '" + id +
        "' AND country = 'KE' RETURNING 1");
  EXPECT_EQ(reg({id, 1, false, false, 0}, "Kipchoge", "Keino"), v1::REGISTRATION_STATUS_WAITLISTED);
  EXPECT_EQ(quota("seat_limit"), 4);
  EXPECT_EQ(quota("taken"), 4);
  EXPECT_EQ(Count("SELECT count(*) FROM registration.quotas WHERE event_id = '" + id + "'"), 1);
}

}  // namespace
}  // namespace ecd::registration
