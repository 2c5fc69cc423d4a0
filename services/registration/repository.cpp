#include "services/registration/repository.hpp"

#include "common/crypto.hpp"
#include "common/pg.hpp"
#include "common/time.hpp"
#include "services/registration/sql.hpp"

namespace ecd::registration {
namespace {

constexpr int kConfirmed = v1::REGISTRATION_STATUS_CONFIRMED;
constexpr int kPending = v1::REGISTRATION_STATUS_PENDING_APPROVAL;
constexpr int kWaitlisted = v1::REGISTRATION_STATUS_WAITLISTED;
constexpr int kCancelled = v1::REGISTRATION_STATUS_CANCELLED;
constexpr int kRejected = v1::REGISTRATION_STATUS_REJECTED;

bool HoldsSeat(int status) { return status == kConfirmed || status == kPending; }

v1::Registration RegistrationFromRow(const pqxx::row& r) {
  v1::Registration reg;
  reg.set_name("registrations/" + r[0].as<std::string>());
  reg.set_event("events/" + r[1].as<std::string>());
  auto* p = reg.mutable_participant();
  p->set_country_code(r[2].as<std::string>());
  p->set_email(r[3].as<std::string>());
  p->set_given_name(r[4].as<std::string>());
  p->set_family_name(r[5].as<std::string>());
  p->set_organisation(r[6].as<std::string>());
  p->set_affiliation(static_cast<v1::Affiliation>(r[7].as<int>()));
  p->set_job_title(r[8].as<std::string>());
  p->set_preferred_language(r[9].as<std::string>());
  p->set_time_zone(r[10].as<std::string>());
  p->set_privacy_consent(r[11].as<bool>());
  p->set_recording_consent(r[12].as<bool>());
  reg.set_status(static_cast<v1::RegistrationStatus>(r[13].as<int>()));
  reg.set_waitlist_position(r[14].as<int>());
  reg.set_attended_minutes(r[15].as<int>());
  reg.set_erased(r[16].as<bool>());
  SetMicros(r[17].as<int64_t>(), reg.mutable_create_time());
  SetMicros(r[18].as<int64_t>(), reg.mutable_update_time());
  p->set_certificate_name(r[19].as<std::string>());
  return reg;
}

QuotaState QuotaFromRow(const pqxx::row& r, int offset = 0) {
  QuotaState q;
  q.event_id = r[offset].as<std::string>();
  q.country = r[offset + 1].as<std::string>();
  q.limit = r[offset + 2].as<int>();
  q.taken = r[offset + 3].as<int>();
  q.waitlisted = r[offset + 4].as<int>();
  q.version = r[offset + 5].as<int64_t>();
  return q;
}

v1::Registration Read(pqxx::transaction_base& tx, const std::string& id) {
  return RegistrationFromRow(Exec(tx, sql::kGetRegistration, id).at(0));
}

// The outbox row of one change, with a stable event id, in the change's transaction.
void Outbox(pqxx::transaction_base& tx, const std::string& kind, const v1::Registration& reg) {
  const std::string payload = reg.SerializeAsString();
  Exec(tx, sql::kInsertOutbox, NewUuid(), reg.name().substr(reg.name().find('/') + 1), kind,
       pqxx::binarystring(payload.data(), payload.size()));
}

const char* StatusKind(int status) {
  switch (status) {
    case kConfirmed:
      return "confirmed";
    case kPending:
      return "pending_approval";
    case kWaitlisted:
      return "waitlisted";
    case kCancelled:
      return "cancelled";
    default:
      return "rejected";
  }
}

struct Lock {
  int limit = 0;
  int taken = 0;
  bool manual = false;
};

std::optional<Lock> LockQuota(pqxx::transaction_base& tx, const std::string& event_id,
                              const std::string& country) {
  auto rows = Exec(tx, sql::kLockQuota, event_id, country);
  if (rows.empty()) return std::nullopt;
  return Lock{rows[0][0].as<int>(), rows[0][1].as<int>(), rows[0][3].as<bool>()};
}

// A seat was freed in (event, country): the first waitlisted registration of that country takes
// it, in the same transaction, unless promotions have stopped (the event is over).
void FreeSeatAndPromote(pqxx::transaction_base& tx, const std::string& event_id,
                        const std::string& country, bool manual, bool promote, Change* change) {
  QuotaState q = QuotaFromRow(Exec(tx, sql::kFreeSeat, event_id, country).at(0));
  if (!promote) {
    change->quotas.push_back(q);
    return;
  }
  auto next = Exec(tx, sql::kFirstWaitlisted, event_id, country);
  if (!next.empty()) {
    auto promoted = Exec(tx, sql::kPromoteSeat, event_id, country);
    if (!promoted.empty()) {
      q = QuotaFromRow(promoted[0]);
      const std::string id = next[0][0].as<std::string>();
      Exec(tx, sql::kSetStatus, id, manual ? kPending : kConfirmed);
      Outbox(tx, "promoted", Read(tx, id));
    }
  }
  change->quotas.push_back(q);
}

void NotifyAvailability(pqxx::transaction_base& tx, const std::string& event_id) {
  Exec(tx, sql::kNotifyAvailability, event_id);
}

}  // namespace

Repository::Repository(PgPool& pool) : pool_(pool) {}

StatusOr<std::optional<v1::Registration>> Repository::FindRequest(const std::string& request_id,
                                                                  const std::string& request_hash) {
  std::optional<v1::Registration> out;
  Status st = pool_.Read([&](pqxx::transaction_base& tx) -> Status {
    auto rows = Exec(tx, sql::kGetRequest, request_id);
    if (rows.empty() || rows[0][1].is_null()) return Status::Ok();
    if (rows[0][0].as<std::string>() != request_hash) {
      return Status::FailedPrecondition("REQUEST_ID_REUSED",
                                        "request_id was already used for a different request");
    }
    v1::Registration reg;
    if (!reg.ParseFromString(pqxx::binarystring(rows[0][1]).str())) {
      return Status::Internal("stored response unreadable");
    }
    out = std::move(reg);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

StatusOr<Change> Repository::Register(const EventRules& event, const v1::Participant& p,
                                      const std::string& request_id,
                                      const std::string& request_hash) {
  Change change;
  Status st = pool_.Transact([&](pqxx::work& tx) -> Status {
    change = Change();
    // The key first: a concurrent retry waits here for this transaction, then reads its answer.
    if (Exec(tx, sql::kClaimRequest, request_id, request_hash).empty()) {
      auto rows = Exec(tx, sql::kGetRequest, request_id);
      if (rows.empty() || rows[0][1].is_null()) {
        return {Code::kAborted, "CONCURRENT_UPDATE", "request in progress, retry"};
      }
      if (rows[0][0].as<std::string>() != request_hash) {
        return Status::FailedPrecondition("REQUEST_ID_REUSED",
                                          "request_id was already used for a different request");
      }
      change.registration.ParseFromString(pqxx::binarystring(rows[0][1]).str());
      change.replayed = true;
      return Status::Ok();
    }
    const std::string& country = p.country_code();
    Exec(tx, sql::kUpsertQuota, event.id, country, event.seat_limit, event.manual_approval);
    int status = event.manual_approval ? kPending : kConfirmed;
    int64_t seq = 0;
    int position = 0;
    auto seat = Exec(tx, sql::kTakeSeat, event.id, country);
    if (!seat.empty()) {
      change.quotas.push_back(QuotaFromRow(seat[0]));
    } else {
      status = kWaitlisted;
      auto joined = Exec(tx, sql::kJoinWaitlist, event.id, country).at(0);
      seq = joined[0].as<int64_t>();
      change.quotas.push_back(QuotaFromRow(joined, 1));
      // Everyone still waiting joined before: the newcomer is last in line.
      position = change.quotas.back().waitlisted;
    }
    const std::string id = NewUuid();
    // A second active registration of the email fails here, on the unique index.
    auto times =
        Exec(tx, sql::kInsertRegistration, id, event.id, country, p.email(), p.email(),
             p.given_name(), p.family_name(), p.organisation(), static_cast<int>(p.affiliation()),
             p.job_title(), p.preferred_language(), p.time_zone(), p.privacy_consent(),
             p.recording_consent(), status, seq, p.certificate_name())
            .at(0);
    v1::Registration& reg = change.registration;
    reg.set_name("registrations/" + id);
    reg.set_event("events/" + event.id);
    *reg.mutable_participant() = p;
    reg.set_status(static_cast<v1::RegistrationStatus>(status));
    reg.set_waitlist_position(position);
    SetMicros(times[0].as<int64_t>(), reg.mutable_create_time());
    SetMicros(times[1].as<int64_t>(), reg.mutable_update_time());
    const std::string payload = reg.SerializeAsString();
    const pqxx::binarystring bytes(payload.data(), payload.size());
    Exec(tx, sql::kInsertOutboxPair, NewUuid(), NewUuid(), id, "registered", StatusKind(status),
         bytes);
    Exec(tx, sql::kStoreResponseAndNotify, request_id, bytes, event.id);
    return Status::Ok();
  });
  // Only the one-email-per-event index can still collide (two countries racing).
  if (st.code() == Code::kAlreadyExists && st.reason() == "ALREADY_EXISTS") {
    return Status::AlreadyExists("ALREADY_REGISTERED",
                                 "this email is already registered for the event");
  }
  if (!st.ok()) return st;
  return change;
}

namespace {

// Runs `decide` on the registration under its quota lock. `decide` gets the current status and
// returns the new one (or an error); seats and the waiting list follow.
template <class Decide>
Status Transition(PgPool& pool, const std::string& id, const char* kind, Decide decide,
                  Change* change, bool promote = true) {
  return pool.Transact([&](pqxx::work& tx) -> Status {
    *change = Change();
    auto where = Exec(tx, sql::kWhereIs, id);
    if (where.empty()) return Status::NotFound("registrations/" + id);
    const std::string event_id = where[0][0].as<std::string>();
    const std::string country = where[0][1].as<std::string>();
    auto lock = LockQuota(tx, event_id, country);
    const int status = Exec(tx, sql::kLockRegistration, id).at(0)[0].as<int>();
    auto next = decide(status);
    if (!next.ok()) return next.status();
    if (*next == status) {  // nothing to do (a repeated cancel, say)
      change->registration = Read(tx, id);
      return Status::Ok();
    }
    Exec(tx, sql::kSetStatus, id, *next);
    change->registration = Read(tx, id);
    Outbox(tx, kind, change->registration);
    if (HoldsSeat(status) && !HoldsSeat(*next)) {
      FreeSeatAndPromote(tx, event_id, country, lock->manual, promote, change);
    } else if (status == kWaitlisted && *next != kWaitlisted) {
      change->quotas.push_back(
          QuotaFromRow(Exec(tx, sql::kLeaveWaitlist, event_id, country).at(0)));
    }
    NotifyAvailability(tx, event_id);
    return Status::Ok();
  });
}

}  // namespace

StatusOr<Change> Repository::Cancel(const std::string& id, bool promote) {
  Change change;
  Status st = Transition(
      pool_, id, "cancelled",
      [](int status) -> StatusOr<int> { return status == kRejected ? kRejected : kCancelled; },
      &change, promote);
  if (!st.ok()) return st;
  return change;
}

StatusOr<Change> Repository::Approve(const std::string& id) {
  Change change;
  Status st = Transition(
      pool_, id, "approved",
      [](int status) -> StatusOr<int> {
        if (status == kConfirmed) return kConfirmed;
        if (status != kPending) {
          return Status::FailedPrecondition("NOT_PENDING_APPROVAL",
                                            "only a registration pending approval can be approved");
        }
        return kConfirmed;
      },
      &change);
  if (!st.ok()) return st;
  return change;
}

StatusOr<Change> Repository::Reject(const std::string& id) {
  Change change;
  Status st = Transition(
      pool_, id, "rejected",
      [](int status) -> StatusOr<int> {
        if (status == kRejected) return kRejected;
        if (status != kPending) {
          return Status::FailedPrecondition("NOT_PENDING_APPROVAL",
                                            "only a registration pending approval can be rejected");
        }
        return kRejected;
      },
      &change);
  if (!st.ok()) return st;
  return change;
}

StatusOr<v1::Registration> Repository::Get(const std::string& id) {
  std::optional<v1::Registration> out;
  Status st = pool_.Read([&](pqxx::transaction_base& tx) -> Status {
    auto rows = Exec(tx, sql::kGetRegistration, id);
    if (!rows.empty()) out = RegistrationFromRow(rows[0]);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  if (!out) return Status::NotFound("registrations/" + id);
  return *out;
}

StatusOr<std::vector<v1::Registration>> Repository::List(const ListFilter& f,
                                                         const std::optional<Cursor>& after,
                                                         int limit) {
  std::vector<v1::Registration> out;
  Status st = pool_.Read([&](pqxx::transaction_base& tx) -> Status {
    auto rows = Exec(tx, sql::kListRegistrations, f.event_id, f.country, f.status,
                     after ? std::to_string(after->micros) : std::string(),
                     after ? after->id : std::string(), limit);
    for (const auto& r : rows) out.push_back(RegistrationFromRow(r));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

StatusOr<std::vector<QuotaState>> Repository::QuotasOfEvent(const std::string& event_id) {
  std::vector<QuotaState> out;
  Status st = pool_.Read([&](pqxx::transaction_base& tx) -> Status {
    for (const auto& r : Exec(tx, sql::kQuotasOfEvent, event_id)) out.push_back(QuotaFromRow(r));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

StatusOr<std::set<std::string>> Repository::RegisteredEmails(const std::string& event_id) {
  std::set<std::string> out;
  Status st = pool_.Read([&](pqxx::transaction_base& tx) -> Status {
    for (const auto& r : Exec(tx, sql::kRegisteredEmails, event_id)) {
      out.insert(r[0].as<std::string>());
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

StatusOr<std::vector<AttendanceUpdate>> Repository::RecordAttendance(
    const std::string& event_id, const std::map<std::string, int>& minutes_by_email) {
  std::vector<AttendanceUpdate> out;
  std::vector<std::string> emails;
  for (const auto& [email, minutes] : minutes_by_email) emails.push_back(email);
  Status st = pool_.Transact([&](pqxx::work& tx) -> Status {
    out.clear();
    std::map<std::string, std::string> id_by_email;
    for (const auto& r : Exec(tx, sql::kAttendanceCandidates, event_id, ToPgArray(emails))) {
      id_by_email.emplace(r[1].as<std::string>(), r[0].as<std::string>());  // first wins
    }
    for (const auto& [email, id] : id_by_email) {
      const int minutes = minutes_by_email.at(email);
      if (!Exec(tx, sql::kSetAttendance, id, minutes).empty()) {
        Outbox(tx, "attendance_recorded", Read(tx, id));
      }
      out.push_back({id, email, minutes});
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

StatusOr<std::vector<std::string>> Repository::EventsOfEmail(const std::string& email_norm) {
  std::vector<std::string> out;
  Status st = pool_.Read([&](pqxx::transaction_base& tx) -> Status {
    for (const auto& r : Exec(tx, sql::kEmailPlaces, email_norm)) {
      const std::string event_id = r[0].as<std::string>();
      if (out.empty() || out.back() != event_id) out.push_back(event_id);
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

StatusOr<EraseResult> Repository::Erase(const std::string& email_norm,
                                        const std::set<std::string>& closed_events) {
  EraseResult result;
  Status st = pool_.Transact([&](pqxx::work& tx) -> Status {
    result = EraseResult();
    std::map<std::pair<std::string, std::string>, bool> manual;
    for (const auto& r : Exec(tx, sql::kEmailPlaces, email_norm)) {
      auto place = std::make_pair(r[0].as<std::string>(), r[1].as<std::string>());
      manual[place] = LockQuota(tx, place.first, place.second)->manual;
    }
    for (const auto& r : Exec(tx, sql::kEmailRegistrations, email_norm)) {
      const std::string id = r[0].as<std::string>(), event_id = r[1].as<std::string>(),
                        country = r[2].as<std::string>();
      const int status = r[3].as<int>();
      Change change;
      if (HoldsSeat(status) || status == kWaitlisted) {
        Exec(tx, sql::kSetStatus, id, kCancelled);
        if (HoldsSeat(status)) {
          FreeSeatAndPromote(tx, event_id, country, manual[{event_id, country}],
                             closed_events.count(event_id) == 0, &change);
        } else {
          change.quotas.push_back(
              QuotaFromRow(Exec(tx, sql::kLeaveWaitlist, event_id, country).at(0)));
        }
        ++result.cancelled;
      }
      Exec(tx, sql::kAnonymise, id);
      v1::Registration anonymous = Read(tx, id);
      const std::string payload = anonymous.SerializeAsString();
      // What the outbox held about the person goes too.
      Exec(tx, sql::kRewriteOutbox, id, pqxx::binarystring(payload.data(), payload.size()));
      Outbox(tx, "erased", anonymous);
      NotifyAvailability(tx, event_id);
      result.events.push_back(event_id);
      result.quotas.insert(result.quotas.end(), change.quotas.begin(), change.quotas.end());
      ++result.erased;
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return result;
}

StatusOr<std::vector<std::pair<std::string, Cursor>>> Repository::Erasures(
    const std::optional<Cursor>& after, int limit) {
  std::vector<std::pair<std::string, Cursor>> out;
  Status st = pool_.Read([&](pqxx::transaction_base& tx) -> Status {
    for (const auto& r :
         Exec(tx, sql::kErasures, after ? std::to_string(after->micros) : std::string(),
              after ? after->id : std::string(), limit)) {
      const std::string id = r[0].as<std::string>();
      out.emplace_back(id, Cursor{r[1].as<int64_t>(), id});
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Status Repository::PurgeRequests(const std::string& age) {
  return pool_.Transact([&](pqxx::work& tx) -> Status {
    Exec(tx, sql::kPurgeRequests, age);
    return Status::Ok();
  });
}

}  // namespace ecd::registration
