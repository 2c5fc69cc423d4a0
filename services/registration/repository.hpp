#pragma once
// The registration service's storage: every seat decision is one PostgreSQL transaction under the
// (event, country) quota row lock; each change writes its outbox rows and a pg_notify in the same
// transaction.
#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/group_commit.hpp"
#include "common/status.hpp"
#include "ecd/registration/v1/registration.pb.h"
#include "services/registration/quota_state.hpp"

namespace ecd {
class PgPool;
}

namespace ecd::registration {

namespace v1 = ::ecd::registration::v1;

class ParticipantKeys;

// What the service needs of a catalogue event.
struct EventRules {
  std::string id;
  int seat_limit = 4;
  bool manual_approval = false;
  // The registration holds its place while the participant verifies their address.
  bool verify_email = false;
  int64_t hold_micros = 0;
};

struct Change {
  v1::Registration registration;
  // Quotas whose figures changed (for the Redis copy).
  std::vector<QuotaState> quotas;
  // A retry answered from the idempotency record.
  bool replayed = false;
};

// The participant fields a registration's holder may correct (UpdateRegistration).
struct Correction {
  std::string given_name, family_name, certificate_name, organisation, job_title;
  std::string preferred_language, time_zone;
};

struct ListFilter {
  std::string event_id;
  std::string country;
  int status = 0;
};

struct Cursor {
  int64_t micros = 0;
  std::string id;
};

struct AttendanceUpdate {
  std::string registration_id;
  std::string email;
  int minutes = 0;
};

// One event's figures as the database holds them (reports).
struct ReportRow {
  std::string country;
  int status = 0;  // as stored (1 confirmed ... 7 expired)
  bool verified = true;
  int count = 0;
  std::vector<int> confirmed_minutes;  // for status 1
};
struct ReportData {
  std::vector<ReportRow> rows;
  std::vector<QuotaState> quotas;
  std::map<int, int> confirmed_by_affiliation;  // Affiliation value -> count (verified)
};

struct EraseResult {
  int erased = 0;
  int others = 0;  // registrations handed over by or offered to the person, scrubbed of them
  int cancelled = 0;
  std::vector<std::string> events;  // whose availability changed
  std::vector<QuotaState> quotas;
};

// How Register calls are committed together: at most `max_groups` transactions at once, each of
// at most `max_size` calls (size 1: each call alone).
using RegisterGrouping = GroupCommitOptions;

class Repository {
 public:
  // `keys` mints the participant keys that some mails carry.
  Repository(PgPool& pool, const ParticipantKeys& keys, RegisterGrouping grouping = {});
  ~Repository();

  // The stored answer to `request_id`: nullopt when unknown, FAILED_PRECONDITION
  // (REQUEST_ID_REUSED) when it was used for a different request.
  StatusOr<std::optional<v1::Registration>> FindRequest(const std::string& request_id,
                                                        const std::string& request_hash);
  // Registers under the idempotency key: a seat while the country has one, else the waiting
  // list. Concurrent calls are committed together (one transaction, a subtransaction each: one
  // call's refusal is its own); under light load each runs alone. With `event.verify_email` the
  // place is held unverified and a code is mailed; a second registration of an address then gets a
  // decoy hold of the same shape (and the address a mail saying it is registered). Without it,
  // ALREADY_EXISTS (ALREADY_REGISTERED).
  //
  // Returns at once, or after leading groups of calls (its own among them) while they wait; `done`
  // gets the answer, on the thread whose group ran the call (perhaps this one, before it returns).
  // At most max_groups threads lead at once, so that under load a call costs no thread of its own.
  using RegisterDone = std::function<void(StatusOr<Change>)>;
  void RegisterAsync(const EventRules& event, v1::Participant participant, std::string request_id,
                     std::string request_hash, RegisterDone done);
  // RegisterAsync, waited for.
  StatusOr<Change> Register(const EventRules& event, const v1::Participant& participant,
                            const std::string& request_id, const std::string& request_hash);
  // Register calls waiting for a group (tests).
  size_t RegistersWaiting() { return registers_.Waiting(); }
  // The mailed code turns a hold into its place, or completes a hand-over. INVALID_ARGUMENT
  // (field code) for a wrong code, FAILED_PRECONDITION for an expired hold or too many attempts.
  StatusOr<Change> Verify(const std::string& id, const std::string& code);
  // Releases holds and hand-overs whose time ran out (at most `limit`), each in its own
  // transaction; a freed seat is promoted unless its event is in `closed_events`.
  StatusOr<std::vector<Change>> ExpireHolds(int limit,
                                            const std::function<bool(const std::string&)>& closed);
  StatusOr<Change> Correct(const std::string& id, const Correction& correction);
  // Starts handing the registration over to `colleague` (same country): their address gets a
  // code; the seat stays. `hold_micros`: how long the colleague has to verify.
  StatusOr<Change> HandOver(const std::string& id, const v1::Participant& colleague,
                            int64_t hold_micros);
  // Sets one country's seats (`seats` 0: back to `event.seat_limit`), promoting the waiting list
  // into new seats in order. FAILED_PRECONDITION (SEATS_BELOW_TAKEN) below the seats taken.
  StatusOr<Change> SetSeats(const EventRules& event, const std::string& country, int seats,
                            bool promote, std::vector<std::string>* promoted);
  StatusOr<ReportData> Report(const std::string& event_id);
  // Mails the participant key of the address's active registration for the event, if any.
  Status ResendKey(const std::string& event_id, const std::string& email_norm);
  // Cancels (idempotent: a cancelled one is returned as it is); frees the seat and, when
  // `promote`, gives it to the first waitlisted registration of the country.
  StatusOr<Change> Cancel(const std::string& id, bool promote = true);
  StatusOr<Change> Approve(const std::string& id);
  // `reason` is kept on the registration (and told to the participant).
  StatusOr<Change> Reject(const std::string& id, const std::string& reason);

  // `key_version`: how many hand-overs the registration had (for its participant key).
  StatusOr<v1::Registration> Get(const std::string& id, int* key_version = nullptr);
  StatusOr<std::vector<v1::Registration>> List(const ListFilter& filter,
                                               const std::optional<Cursor>& after, int limit);
  StatusOr<std::vector<QuotaState>> QuotasOfEvent(const std::string& event_id);

  // The normalised emails registered for the event (erased ones excepted), sorted.
  StatusOr<std::set<std::string>> RegisteredEmails(const std::string& event_id);
  // Sets the minutes of the matching registrations (by normalised email); unchanged ones write
  // nothing. Returns what matched.
  StatusOr<std::vector<AttendanceUpdate>> RecordAttendance(
      const std::string& event_id, const std::map<std::string, int>& minutes_by_email);
  // The events (ids, sorted) where `email_norm` has registrations not yet erased.
  StatusOr<std::vector<std::string>> EventsOfEmail(const std::string& email_norm);
  // Anonymises every registration of `email_norm`; freed seats are promoted except in
  // `closed_events` (completed or cancelled).
  StatusOr<EraseResult> Erase(const std::string& email_norm,
                              const std::set<std::string>& closed_events = {});
  // Erased registrations after `after` (their erasure time and id), oldest first.
  StatusOr<std::vector<std::pair<std::string, Cursor>>> Erasures(const std::optional<Cursor>& after,
                                                                 int limit);
  // The counters of events whose seats moved in the last 30 days (at most 5000), for metrics.
  StatusOr<std::vector<QuotaState>> RecentQuotas();
  // How many outbox events wait for the notifications service, and the oldest one's age.
  StatusOr<std::pair<int64_t, double>> OutboxBacklog();
  // Forgets idempotency keys older than `age` (an SQL interval like "48 hours").
  Status PurgeRequests(const std::string& age);

 private:
  struct PendingRegister;
  void RegisterGroup(const std::vector<PendingRegister*>& group);
  void RunRegisters(const std::vector<PendingRegister*>& group);
  bool Requeued(PendingRegister& r);
  void LogRefusal(const PendingRegister& item);

  PgPool& pool_;
  const ParticipantKeys& keys_;
  GroupCommit<PendingRegister> registers_;
  std::atomic<int64_t> last_refusal_log_{-3600};  // steady seconds of the last refusal logged
};

}  // namespace ecd::registration
