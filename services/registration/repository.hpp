#pragma once
// The registration service's storage: every seat decision is one PostgreSQL transaction under the
// (event, country) quota row lock; each change writes its outbox rows and a pg_notify in the same
// transaction.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/status.hpp"
#include "ecd/registration/v1/registration.pb.h"

namespace ecd {
class PgPool;
}

namespace ecd::registration {

namespace v1 = ::ecd::registration::v1;

// What the service needs of a catalogue event.
struct EventRules {
  std::string id;
  int seat_limit = 4;
  bool manual_approval = false;
};

// One (event, country) counter, as PostgreSQL holds it.
struct QuotaState {
  std::string event_id;
  std::string country;
  int limit = 0;
  int taken = 0;
  int waitlisted = 0;
  int64_t version = 0;
};

struct Change {
  v1::Registration registration;
  // Quotas whose figures changed (for the Redis copy).
  std::vector<QuotaState> quotas;
  // A retry answered from the idempotency record.
  bool replayed = false;
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

struct EraseResult {
  int erased = 0;
  int cancelled = 0;
  std::vector<std::string> events;  // whose availability changed
  std::vector<QuotaState> quotas;
};

class Repository {
 public:
  explicit Repository(PgPool& pool);

  // The stored answer to `request_id`: nullopt when unknown, FAILED_PRECONDITION
  // (REQUEST_ID_REUSED) when it was used for a different request.
  StatusOr<std::optional<v1::Registration>> FindRequest(const std::string& request_id,
                                                        const std::string& request_hash);
  // Registers under the idempotency key: a seat while the country has one, else the waiting
  // list. ALREADY_EXISTS (ALREADY_REGISTERED) for a second active registration of one email.
  StatusOr<Change> Register(const EventRules& event, const v1::Participant& participant,
                            const std::string& request_id, const std::string& request_hash);
  // Cancels (idempotent: a cancelled one is returned as it is); frees the seat and, when
  // `promote`, gives it to the first waitlisted registration of the country.
  StatusOr<Change> Cancel(const std::string& id, bool promote = true);
  StatusOr<Change> Approve(const std::string& id);
  StatusOr<Change> Reject(const std::string& id);

  StatusOr<v1::Registration> Get(const std::string& id);
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
  // Forgets idempotency keys older than `age` (an SQL interval like "48 hours").
  Status PurgeRequests(const std::string& age);

 private:
  PgPool& pool_;
};

}  // namespace ecd::registration
