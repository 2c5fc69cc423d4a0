#include "services/registration/repository.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <future>
#include <memory>
#include <set>
#include <tuple>

#include "common/crypto.hpp"
#include "common/metrics.hpp"
#include "common/pg.hpp"
#include "common/time.hpp"
#include "common/trace.hpp"
#include "services/registration/participant_keys.hpp"
#include "services/registration/sql.hpp"

namespace ecd::registration {
namespace {

constexpr int kConfirmed = v1::REGISTRATION_STATUS_CONFIRMED;
constexpr int kPending = v1::REGISTRATION_STATUS_PENDING_APPROVAL;
constexpr int kWaitlisted = v1::REGISTRATION_STATUS_WAITLISTED;
constexpr int kCancelled = v1::REGISTRATION_STATUS_CANCELLED;
constexpr int kRejected = v1::REGISTRATION_STATUS_REJECTED;
constexpr int kExpired = v1::REGISTRATION_STATUS_EXPIRED;
// Registrations committed together at most (PostgreSQL keeps 64 subtransactions of a transaction
// in shared memory; past that every other session's snapshot pays).
constexpr int kMaxRegisterGroup = 60;
// Wrong codes a hold accepts before it refuses every code.
constexpr int kMaxVerificationAttempts = 10;

bool HoldsSeat(int status) { return status == kConfirmed || status == kPending; }
bool HoldsSeatOrPlace(int status) { return HoldsSeat(status) || status == kWaitlisted; }

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
  // An unverified hold shows as such; its place (and waiting-list position) is held all the same.
  const bool verified = r[20].as<bool>();
  if (!verified && HoldsSeatOrPlace(reg.status())) {
    reg.set_status(v1::REGISTRATION_STATUS_PENDING_VERIFICATION);
  }
  if (const int64_t hold = r[21].as<int64_t>(); hold != 0) {
    SetMicros(hold, reg.mutable_hold_expire_time());
  }
  reg.set_rejection_reason(r[23].as<std::string>());
  return reg;
}

int KeyVersionOfRow(const pqxx::row& r) { return r[22].as<int>(); }

// A six-digit code, and what is stored of it.
std::string NewCode() {
  const std::string bytes = RandomBytes(4);
  uint32_t n = 0;
  for (unsigned char b : bytes) n = n * 256 + b;
  char buf[8];
  std::snprintf(buf, sizeof buf, "%06u", n % 1000000);
  return buf;
}
std::string CodeHash(const std::string& id, const std::string& code) {
  return Sha256Hex(id + ":" + code);
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

// The registration, and when asked the version of its participant key, in one read.
v1::Registration Read(pqxx::transaction_base& tx, const std::string& id,
                      int* key_version = nullptr) {
  const pqxx::result rows = Exec(tx, sql::kGetRegistration, id);
  if (key_version != nullptr) *key_version = KeyVersionOfRow(rows.at(0));
  return RegistrationFromRow(rows.at(0));
}

// Counts a change by its outbox kind (confirmed, promoted, cancelled, rejected ...) once its
// transaction commits.
void CountChange(const std::string& kind) {
  AfterCommit([kind] {
    Counter("ecd_registration_changes_total",
            "Changes to registrations, by the kind of event they send (confirmed, promoted, "
            "cancelled, rejected, ...).",
            {{"kind", kind}})
        .Inc();
  });
}

// The outbox row of one change, with a stable event id, in the change's transaction. `secret`:
// what the mail must carry besides the registration (a code, a participant key).
void Outbox(pqxx::transaction_base& tx, const std::string& kind, const v1::Registration& reg,
            const std::string& secret = "") {
  const std::string payload = reg.SerializeAsString();
  Exec(tx, sql::kInsertOutbox, NewUuid(), reg.name().substr(reg.name().find('/') + 1), kind,
       pqxx::binarystring(payload.data(), payload.size()), secret, CurrentTraceparent());
  CountChange(kind);
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

// Gives a free seat of (event, country) to the first waitlisted registration, if any; returns
// its id ("" when nobody waits or no seat is free).
std::string PromoteNext(pqxx::transaction_base& tx, const std::string& event_id,
                        const std::string& country, bool manual, Change* change) {
  auto next = Exec(tx, sql::kFirstWaitlisted, event_id, country);
  if (next.empty()) return "";
  auto promoted = Exec(tx, sql::kPromoteSeat, event_id, country);
  if (promoted.empty()) return "";
  change->quotas.push_back(QuotaFromRow(promoted[0]));
  const std::string id = next[0][0].as<std::string>();
  Exec(tx, sql::kSetStatus, id, manual ? kPending : kConfirmed);
  // An unverified hold is told nothing until it verifies (then it hears where it stands).
  if (Exec(tx, sql::kHoldOf, id).at(0)[0].as<bool>()) Outbox(tx, "promoted", Read(tx, id));
  return id;
}

// A seat was freed in (event, country): the first waitlisted registration of that country takes
// it, in the same transaction, unless promotions have stopped (the event is over).
void FreeSeatAndPromote(pqxx::transaction_base& tx, const std::string& event_id,
                        const std::string& country, bool manual, bool promote, Change* change) {
  QuotaState q = QuotaFromRow(Exec(tx, sql::kFreeSeat, event_id, country).at(0));
  if (!promote || PromoteNext(tx, event_id, country, manual, change).empty()) {
    change->quotas.push_back(q);
  }
}

void NotifyAvailability(pqxx::transaction_base& tx, const std::string& event_id) {
  Exec(tx, sql::kNotifyAvailability, event_id);
}

}  // namespace

// One Register call handed to the group commit: what it asks, where its answer goes, and the
// answer of its last attempt.
struct Repository::PendingRegister {
  EventRules event;
  v1::Participant participant;
  std::string request_id, request_hash;
  RegisterDone done;
  std::optional<TraceContext> trace;  // the call's, for its outbox rows
  std::string id, code;               // minted once, kept across attempts
  uint64_t quota_row = 0;             // which quota row the call locks (its group commit key)
  int attempt = 1;
  bool alone = false;  // once its group failed, a call runs alone (never sent alone again)
  Status status;
  Change change;
  // After an attempt: answered, to be tried again (a concurrent update), or to be run alone (its
  // group's transaction failed, perhaps through another call).
  enum class Next { kAnswered, kAgain, kAlone } next = Next::kAnswered;
};

Repository::Repository(PgPool& pool, const ParticipantKeys& keys, RegisterGrouping grouping)
    : pool_(pool),
      keys_(keys),
      // A group holds a connection: fewer groups than connections, so that other calls find one.
      registers_(
          {.max_groups = std::max(1, std::min(grouping.max_groups, pool.options().size - 1)),
           .max_size = std::min(grouping.max_size, kMaxRegisterGroup),
           .max_waiting = grouping.max_waiting,
           .max_waiting_per_key = grouping.max_waiting_per_key},
          [this](const std::vector<PendingRegister*>& group) {
            static const HistogramHandle sizes = Histogram(
                "ecd_register_group_size", "Register calls committed together (one transaction).",
                {}, {1, 2, 4, 8, 16, 32});
            sizes.Observe(static_cast<double>(group.size()));
            RunRegisters(group);
          },
          // Calls for a quota row another group holds wait for that group's leader.
          [](const PendingRegister& r) { return r.quota_row; }) {}

Repository::~Repository() = default;

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

void Repository::RegisterAsync(const EventRules& event, v1::Participant participant,
                               std::string request_id, std::string request_hash,
                               RegisterDone done) {
  auto* item = new PendingRegister{event, std::move(participant), std::move(request_id),
                                   std::move(request_hash), std::move(done)};
  if (const TraceContext* trace = CurrentTrace()) item->trace = *trace;
  item->id = NewUuid();
  if (event.verify_email) item->code = NewCode();
  item->quota_row = std::hash<std::string>{}(item->event.id) * 31 +
                    std::hash<std::string>{}(item->participant.country_code());
  // Too many calls wait already, in all or for this quota row: the caller may try again later.
  if (!registers_.Post(item)) {
    LogRefusal(*item);
    auto refused = std::move(item->done);
    delete item;
    refused(Overloaded());
  }
}

// A line for the operator (at most one per 10 s per replica): what the refused calls were for,
// so that a flood for one event and country can be told from a general overload. No person in it.
void Repository::LogRefusal(const PendingRegister& item) {
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  int64_t last = last_refusal_log_.load();
  if (now - last < 10 || !last_refusal_log_.compare_exchange_strong(last, now)) return;
  spdlog::warn(
      "Register refused as overloaded: {} calls wait in all, {} of them for events/{} country {}"
      " (ECD_QUEUE_SIZE, ECD_REGISTER_ROW_WAITING); such refusals are not logged again for 10 s",
      registers_.Waiting(), registers_.WaitingFor(item.quota_row), item.event.id,
      item.participant.country_code());
}

StatusOr<Change> Repository::Register(const EventRules& event, const v1::Participant& p,
                                      const std::string& request_id,
                                      const std::string& request_hash) {
  std::promise<StatusOr<Change>> answer;
  auto future = answer.get_future();
  RegisterAsync(event, p, request_id, request_hash,
                [&answer](StatusOr<Change> change) { answer.set_value(std::move(change)); });
  return future.get();
}

// After an attempt, whether the call goes on in a later group instead of being answered now. A
// concurrent update tries again (three attempts in all): in a later group, or alone once alone;
// the calls of a failed group run alone, at once, on this thread.
bool Repository::Requeued(PendingRegister& r) {
  for (;;) {
    const bool failed_group = r.next == PendingRegister::Next::kAlone;
    if (!failed_group && !(r.next == PendingRegister::Next::kAgain && r.attempt < 3)) return false;
    ++r.attempt;
    r.alone = r.alone || failed_group;
    if (!r.alone) {
      registers_.Requeue(&r);
      return true;
    }
    RegisterGroup({&r});
  }
}

// A group's run: one attempt for all (RegisterGroup), then each call is answered or goes on.
void Repository::RunRegisters(const std::vector<PendingRegister*>& group) {
  RegisterGroup(group);
  for (PendingRegister* r : group) {
    if (Requeued(*r)) continue;
    std::unique_ptr<PendingRegister> owned(r);
    StatusOr<Change> answer =
        r->status.ok() ? StatusOr<Change>(std::move(r->change)) : StatusOr<Change>(r->status);
    std::optional<ScopedTrace> scoped;  // what the answer logs or calls carries the call's trace
    if (r->trace) scoped.emplace(*r->trace);
    try {
      r->done(std::move(answer));
    } catch (const std::exception& e) {  // the other calls of the group still get theirs
      spdlog::error("register: answering a call failed: {}", e.what());
    } catch (...) {
      spdlog::error("register: answering a call failed");
    }
  }
}

namespace {

// The answer of one registration of a group that the database reported as failed.
Status RegisterFailure(const std::string& outcome, const std::string& sqlstate,
                       const std::string& message) {
  if (outcome == "reused") {
    return Status::FailedPrecondition("REQUEST_ID_REUSED",
                                      "request_id was already used for a different request");
  }
  if (outcome == "in_progress") {
    return {Code::kAborted, "CONCURRENT_UPDATE", "request in progress, retry"};
  }
  // Only the one-email-per-event index can collide (two countries racing, or a second
  // registration of an address without e-mail verification).
  if (sqlstate == "23505") {
    return Status::AlreadyExists("ALREADY_REGISTERED",
                                 "this email is already registered for the event");
  }
  return StatusOfSqlState(sqlstate, message);
}

}  // namespace

// One attempt at a group's registrations, in one transaction and in the order they arrived: one
// round trip for every decision (the group's quota rows locked first, in one order for every
// group; then each registration in a subtransaction of its own), the decoys' look-ups, then one
// round trip for the outbox rows, the kept answers and the notifications. A registration the
// database refused gets its own answer and the others commit. Refused for a concurrent update:
// the call tries again (Register). When the transaction itself fails, the calls of a larger
// group are run alone, so that nobody's answer depends on another's, unless the database is
// down or too slow (then every call gets that answer).
void Repository::RegisterGroup(const std::vector<PendingRegister*>& group) {
  for (PendingRegister* r : group) r->next = PendingRegister::Next::kAnswered;
  Status st;
  try {
    st = pool_.Transact([&](pqxx::work& tx) -> Status {
      const size_t n = group.size();
      std::vector<std::string> request_ids, hashes, ids, events, countries, limits, manuals,
          verifies, holds, emails, given, family, organisations, affiliations, titles, languages,
          zones, privacy, recording, certificate_names, code_hashes;
      for (PendingRegister* r : group) {
        const v1::Participant& p = r->participant;
        r->status = Status::Ok();
        r->change = Change();
        request_ids.push_back(r->request_id);
        hashes.push_back(r->request_hash);
        ids.push_back(r->id);
        events.push_back(r->event.id);
        countries.push_back(p.country_code());
        limits.push_back(std::to_string(r->event.seat_limit));
        manuals.push_back(r->event.manual_approval ? "t" : "f");
        verifies.push_back(r->event.verify_email ? "t" : "f");
        holds.push_back(std::to_string(r->event.hold_micros));
        emails.push_back(p.email());
        given.push_back(p.given_name());
        family.push_back(p.family_name());
        organisations.push_back(p.organisation());
        affiliations.push_back(std::to_string(static_cast<int>(p.affiliation())));
        titles.push_back(p.job_title());
        languages.push_back(p.preferred_language());
        zones.push_back(p.time_zone());
        privacy.push_back(p.privacy_consent() ? "t" : "f");
        recording.push_back(p.recording_consent() ? "t" : "f");
        certificate_names.push_back(p.certificate_name());
        code_hashes.push_back(r->code.empty() ? "" : CodeHash(r->id, r->code));
      }
      auto rows =
          Exec(tx, sql::kRegisterGroup, ToPgArray(request_ids), ToPgArray(hashes), ToPgArray(ids),
               ToPgArray(events), ToPgArray(countries), ToPgArray(limits), ToPgArray(manuals),
               ToPgArray(verifies), ToPgArray(holds), ToPgArray(emails), ToPgArray(given),
               ToPgArray(family), ToPgArray(organisations), ToPgArray(affiliations),
               ToPgArray(titles), ToPgArray(languages), ToPgArray(zones), ToPgArray(privacy),
               ToPgArray(recording), ToPgArray(certificate_names), ToPgArray(code_hashes));
      if (rows.size() != n) return Status::Internal("register_group answered a different group");
      // What the finishing statement writes, in order.
      std::vector<std::string> outbox_ids, outbox_regs, kinds, payloads, secrets, traces;
      std::vector<std::string> kept_requests, kept_answers, kept_regs;
      std::set<std::string> notified;
      auto outbox = [&](const std::string& registration, const std::string& kind,
                        const std::string& payload, const std::string& secret,
                        const std::string& traceparent) {
        outbox_ids.push_back(NewUuid());
        outbox_regs.push_back(registration);
        kinds.push_back(kind);
        payloads.push_back(payload);
        secrets.push_back(secret);
        traces.push_back(traceparent);
        CountChange(kind);
      };
      for (size_t i = 0; i < n; ++i) {
        PendingRegister& r = *group[i];
        const pqxx::row row = rows[i];
        const std::string outcome = row[0].as<std::string>();
        if (outcome == "replayed") {
          r.change.registration.ParseFromString(pqxx::binarystring(row[12]).str());
          r.change.replayed = true;
          continue;
        }
        if (outcome != "ok") {
          r.status = RegisterFailure(outcome, row[14].is_null() ? "" : row[14].as<std::string>(),
                                     row[15].is_null() ? "" : row[15].as<std::string>());
          if (r.status.code() == Code::kAborted) r.next = PendingRegister::Next::kAgain;
          continue;
        }
        const EventRules& event = r.event;
        const int status = row[1].as<int>();
        r.change.quotas.push_back(QuotaFromRow(row, 6));  // o_event .. o_version
        v1::Registration& reg = r.change.registration;
        reg.set_name("registrations/" + r.id);
        reg.set_event("events/" + event.id);
        *reg.mutable_participant() = r.participant;
        reg.set_status(event.verify_email ? v1::REGISTRATION_STATUS_PENDING_VERIFICATION
                                          : static_cast<v1::RegistrationStatus>(status));
        reg.set_waitlist_position(row[2].as<int>());
        SetMicros(row[3].as<int64_t>(), reg.mutable_create_time());
        SetMicros(row[4].as<int64_t>(), reg.mutable_update_time());
        if (row[5].as<int64_t>() != 0) {
          SetMicros(row[5].as<int64_t>(), reg.mutable_hold_expire_time());
        }
        const std::string payload = reg.SerializeAsString();
        const std::string traceparent = r.trace ? Traceparent(*r.trace) : "";
        if (!row[13].is_null()) {
          // A decoy: the address's active registration hears that it is registered already.
          const std::string existing = row[13].as<std::string>();
          int version = 0;
          const v1::Registration mine = Read(tx, existing, &version);
          outbox(existing, "already_registered", mine.SerializeAsString(),
                 keys_.Mint(existing, version), traceparent);
        } else {
          // What the participant hears: where they stand, or the code. The event carries the
          // registration, from which the notifications service keeps its copy of the participant
          // (a separate "registered" event used to say the same: one outbox row, one relay
          // update and one inbox row more per registration).
          outbox(r.id, event.verify_email ? "verify_email" : StatusKind(status), payload, r.code,
                 traceparent);
        }
        kept_requests.push_back(r.request_id);
        kept_answers.push_back(payload);
        kept_regs.push_back(r.id);
        notified.insert(event.id);
      }
      if (!kept_requests.empty()) {
        Exec(tx, sql::kFinishRegisterGroup, ToPgArray(outbox_ids), ToPgArray(outbox_regs),
             ToPgArray(kinds), ToPgByteaArray(payloads), ToPgArray(secrets), ToPgArray(traces),
             ToPgArray(kept_requests), ToPgByteaArray(kept_answers), ToPgArray(kept_regs),
             ToPgArray({notified.begin(), notified.end()}));
      }
      return Status::Ok();
    });
  } catch (const std::exception& e) {  // nothing may escape a group: its callers wait on it
    st = Status::Internal(std::string("register group: ") + e.what());
  } catch (...) {
    st = Status::Internal("register group: unknown exception");
  }
  if (st.ok()) return;
  if (group.size() > 1 && st.code() != Code::kUnavailable && st.code() != Code::kDeadlineExceeded) {
    for (PendingRegister* r : group) r->next = PendingRegister::Next::kAlone;
    return;
  }
  // Only the one-email-per-event index can collide (two countries racing).
  const Status answer =
      st.code() == Code::kAlreadyExists ? RegisterFailure("error", "23505", "") : st;
  for (PendingRegister* r : group) {
    r->status = answer;
    r->next = PendingRegister::Next::kAnswered;
  }
}

namespace {

// Runs `decide` on the registration under its quota lock. `decide` gets the current status and
// returns the new one (or an error); seats and the waiting list follow.
template <class Decide>
Status Transition(PgPool& pool, const std::string& id, const char* kind, Decide decide,
                  Change* change, bool promote = true, const std::string& reason = "") {
  return pool.Transact([&](pqxx::work& tx) -> Status {
    *change = Change();
    auto where = Exec(tx, sql::kWhereIs, id);
    if (where.empty()) return Status::NotFound("registrations/" + id);
    const std::string event_id = where[0][0].as<std::string>();
    const std::string country = where[0][1].as<std::string>();
    auto lock = LockQuota(tx, event_id, country);
    const int status = Exec(tx, sql::kLockRegistration, id).at(0)[0].as<int>();
    ECD_ASSIGN_OR_RETURN(auto next, decide(status));
    if (next == status) {  // nothing to do (a repeated cancel, say)
      change->registration = Read(tx, id);
      return Status::Ok();
    }
    Exec(tx, sql::kSetStatus, id, next);
    if (next == kRejected) Exec(tx, sql::kSetRejectionReason, id, reason);
    change->registration = Read(tx, id);
    Outbox(tx, kind, change->registration);
    if (HoldsSeat(status) && !HoldsSeat(next)) {
      FreeSeatAndPromote(tx, event_id, country, lock->manual, promote, change);
    } else if (status == kWaitlisted && next != kWaitlisted) {
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

StatusOr<Change> Repository::Reject(const std::string& id, const std::string& reason) {
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
      &change, true, reason);
  if (!st.ok()) return st;
  return change;
}

StatusOr<Change> Repository::Verify(const std::string& id, const std::string& code) {
  Change change;
  bool wrong_code = false;
  Status st = pool_.Transact([&](pqxx::work& tx) -> Status {
    change = Change();
    wrong_code = false;
    auto where = Exec(tx, sql::kWhereIs, id);
    if (where.empty()) return Status::NotFound("registrations/" + id);
    LockQuota(tx, where[0][0].as<std::string>(), where[0][1].as<std::string>());
    const auto hold = Exec(tx, sql::kLockHold, id).at(0);
    const int status = hold[0].as<int>();
    const bool verified = hold[1].as<bool>(), expired = hold[2].as<bool>();
    const std::string hash = hold[3].as<std::string>();
    const int attempts = hold[4].as<int>();
    const bool handover = !hold[6].is_null();
    if (verified && !handover) {  // verified already (a repeated call): as it is
      change.registration = Read(tx, id);
      change.replayed = true;
      return Status::Ok();
    }
    if (!HoldsSeatOrPlace(status) || expired) {
      return Status::FailedPrecondition("HOLD_EXPIRED",
                                        "the hold ran out before the address was verified");
    }
    if (attempts >= kMaxVerificationAttempts) {
      return Status::FailedPrecondition("TOO_MANY_ATTEMPTS",
                                        "too many wrong codes: this hold accepts no more");
    }
    // A decoy's hash is empty: no code verifies it.
    if (hash.empty() || !ConstantTimeEquals(CodeHash(id, code), hash)) {
      Exec(tx, sql::kCountAttempt, id);
      wrong_code = true;
      return Status::Ok();
    }
    if (handover) {
      // The colleague verified their address: the registration becomes theirs, with a new key;
      // the previous holder is told.
      const v1::Registration before = Read(tx, id);
      // The former holder stays in the registration's history (its outbox, its stored answer):
      // remembered, so that their erasure finds it.
      for (const auto& r : Exec(tx, sql::kHolderEmail, id)) {
        Exec(tx, sql::kRememberPerson, id, r[0].as<std::string>());
      }
      v1::Participant next;
      next.ParseFromString(pqxx::binarystring(hold[6]).str());
      Exec(tx, sql::kApplyHandover, id, next.email(), next.email(), next.given_name(),
           next.family_name(), next.certificate_name(), next.organisation(),
           static_cast<int>(next.affiliation()), next.job_title(), next.preferred_language(),
           next.time_zone(), next.recording_consent());
      int version = 0;
      change.registration = Read(tx, id, &version);
      Outbox(tx, "handed_over", before);
      Outbox(tx, "handed_over_to_you", change.registration, keys_.Mint(id, version));
      return Status::Ok();
    }
    Exec(tx, sql::kMarkVerified, id);
    change.registration = Read(tx, id);
    Outbox(tx, StatusKind(status), change.registration, keys_.Mint(id, 0));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  if (wrong_code) {
    return Status::InvalidArgument("code", "does not match the code mailed for this registration");
  }
  return change;
}

StatusOr<std::vector<Change>> Repository::ExpireHolds(
    int limit, const std::function<bool(const std::string&)>& closed) {
  std::vector<std::tuple<std::string, std::string, std::string>> due;
  Status st = pool_.Read([&](pqxx::transaction_base& tx) -> Status {
    for (const auto& r : Exec(tx, sql::kExpiredHolds, limit)) {
      due.emplace_back(r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>());
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  std::vector<Change> out;
  for (const auto& [id, event_id, country] : due) {
    const bool promote = !closed(event_id);
    Change change;
    bool claimed = false;
    st = pool_.Transact([&](pqxx::work& tx) -> Status {
      change = Change();
      claimed = false;
      // Lock order as everywhere: the quota row, then the registration (skipped when another
      // replica holds it: that one is releasing it).
      auto lock = LockQuota(tx, event_id, country);
      auto hold = Exec(tx, sql::kClaimExpiredHold, id);
      if (hold.empty() || !lock) return Status::Ok();
      claimed = true;
      const int status = hold[0][0].as<int>();
      const bool verified = hold[0][1].as<bool>(), handover = hold[0][2].as<bool>();
      if (verified && handover) {  // the colleague never verified: nothing changes hands
        Exec(tx, sql::kDropHandover, id);
        change.registration = Read(tx, id);
        Outbox(tx, "handover_expired", change.registration);
        return Status::Ok();
      }
      if (verified || !HoldsSeatOrPlace(status)) return Status::Ok();
      Exec(tx, sql::kExpireHold, id);
      change.registration = Read(tx, id);
      // A decoy's expiry mails nobody: its address belongs to someone already registered, who
      // was told so when the decoy was made.
      if (!hold[0][3].as<bool>()) Outbox(tx, "expired", change.registration);
      if (HoldsSeat(status)) {
        FreeSeatAndPromote(tx, event_id, country, lock->manual, promote, &change);
      } else {
        change.quotas.push_back(
            QuotaFromRow(Exec(tx, sql::kLeaveWaitlist, event_id, country).at(0)));
      }
      NotifyAvailability(tx, event_id);
      return Status::Ok();
    });
    if (!st.ok()) return st;
    if (claimed) out.push_back(std::move(change));
  }
  return out;
}

StatusOr<Change> Repository::Correct(const std::string& id, const Correction& c) {
  Change change;
  Status st = pool_.Transact([&](pqxx::work& tx) -> Status {
    change = Change();
    auto where = Exec(tx, sql::kWhereIs, id);
    if (where.empty()) return Status::NotFound("registrations/" + id);
    Exec(tx, sql::kCorrectParticipant, id, c.given_name, c.family_name, c.certificate_name,
         c.organisation, c.job_title, c.preferred_language, c.time_zone);
    change.registration = Read(tx, id);
    Outbox(tx, "updated", change.registration);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return change;
}

StatusOr<Change> Repository::HandOver(const std::string& id, const v1::Participant& colleague,
                                      int64_t hold_micros) {
  Change change;
  Status st = pool_.Transact([&](pqxx::work& tx) -> Status {
    change = Change();
    auto where = Exec(tx, sql::kWhereIs, id);
    if (where.empty()) return Status::NotFound("registrations/" + id);
    const std::string event_id = where[0][0].as<std::string>();
    LockQuota(tx, event_id, where[0][1].as<std::string>());
    const auto hold = Exec(tx, sql::kLockHold, id).at(0);
    if (!HoldsSeatOrPlace(hold[0].as<int>()) || !hold[1].as<bool>()) {
      return Status::FailedPrecondition("NOT_HANDED_OVER",
                                        "only a verified, active registration can be handed over");
    }
    const std::string code = NewCode();
    const std::string bytes = colleague.SerializeAsString();
    Exec(tx, sql::kSetHandover, id, pqxx::binarystring(bytes.data(), bytes.size()), hold_micros,
         CodeHash(id, code));
    Exec(tx, sql::kRememberPerson, id, colleague.email());
    change.registration = Read(tx, id);
    // The colleague's mail: the registration as it will be theirs, with the code.
    v1::Registration theirs = change.registration;
    *theirs.mutable_participant() = colleague;
    Outbox(tx, "handover_verify", theirs, code);
    Outbox(tx, "handover_requested", change.registration);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return change;
}

StatusOr<Change> Repository::SetSeats(const EventRules& event, const std::string& country,
                                      int seats, bool promote, std::vector<std::string>* promoted) {
  Change change;
  Status st = pool_.Transact([&](pqxx::work& tx) -> Status {
    change = Change();
    promoted->clear();
    const auto lock =
        Exec(tx, sql::kUpsertQuota, event.id, country, event.seat_limit, event.manual_approval)
            .at(0);
    const int taken = lock[1].as<int>();
    const int limit = seats == 0 ? event.seat_limit : seats;
    if (limit < taken) {
      return Status::FailedPrecondition("SEATS_BELOW_TAKEN",
                                        std::to_string(taken) + " seats are taken in " + country +
                                            ": the country cannot have fewer than that")
          .With("taken", std::to_string(taken))
          .With("seats", std::to_string(limit));
    }
    change.quotas.push_back(
        QuotaFromRow(Exec(tx, sql::kSetSeats, event.id, country, seats, event.seat_limit).at(0)));
    // New seats go to the waiting list, first in line first.
    while (promote) {
      const std::string id = PromoteNext(tx, event.id, country, event.manual_approval, &change);
      if (id.empty()) break;
      promoted->push_back(id);
    }
    NotifyAvailability(tx, event.id);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return change;
}

StatusOr<ReportData> Repository::Report(const std::string& event_id) {
  ReportData out;
  Status st = pool_.Read([&](pqxx::transaction_base& tx) -> Status {
    for (const auto& r : Exec(tx, sql::kReportCounts, event_id)) {
      ReportRow row;
      row.country = r[0].as<std::string>();
      row.status = r[1].as<int>();
      row.verified = r[2].as<bool>();
      row.count = r[3].as<int>();
      for (const auto& m : FromPgArray(r[4])) row.confirmed_minutes.push_back(std::stoi(m));
      out.rows.push_back(std::move(row));
    }
    for (const auto& r : Exec(tx, sql::kQuotasOfEvent, event_id)) {
      out.quotas.push_back(QuotaFromRow(r));
    }
    for (const auto& r : Exec(tx, sql::kReportAffiliations, event_id)) {
      out.confirmed_by_affiliation[r[0].as<int>()] = r[1].as<int>();
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Status Repository::ResendKey(const std::string& event_id, const std::string& email_norm) {
  return pool_.Transact([&](pqxx::work& tx) -> Status {
    auto found = Exec(tx, sql::kActiveByEmail, event_id, email_norm);
    if (found.empty()) return Status::Ok();
    const std::string id = found[0][0].as<std::string>();
    int version = 0;
    const v1::Registration registration = Read(tx, id, &version);
    Outbox(tx, "participant_key", registration, keys_.Mint(id, version));
    return Status::Ok();
  });
}

StatusOr<v1::Registration> Repository::Get(const std::string& id, int* key_version) {
  std::optional<v1::Registration> out;
  Status st = pool_.Read([&](pqxx::transaction_base& tx) -> Status {
    auto rows = Exec(tx, sql::kGetRegistration, id);
    if (!rows.empty()) {
      out = RegistrationFromRow(rows[0]);
      if (key_version != nullptr) *key_version = KeyVersionOfRow(rows[0]);
    }
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
    std::map<std::string, std::string> anonymous_by_name;
    std::map<std::pair<std::string, std::string>, bool> manual;
    // Quota rows first (the lock order everywhere), in one sorted order: the address's own
    // places and those of registrations whose history names it.
    std::set<std::pair<std::string, std::string>> places;
    for (const auto& statement : {sql::kEmailPlaces, sql::kPlacesOfPerson}) {
      for (const auto& r : Exec(tx, statement, email_norm)) {
        places.emplace(r[0].as<std::string>(), r[1].as<std::string>());
      }
    }
    for (const auto& place : places) {
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
      // What the outbox held about the person goes too, and so does the answer kept for a
      // replayed Register: a replay now gets the anonymous registration.
      Exec(tx, sql::kRewriteOutbox, id, pqxx::binarystring(payload.data(), payload.size()));
      Exec(tx, sql::kEraseAnswers, id, pqxx::binarystring(payload.data(), payload.size()));
      anonymous_by_name[anonymous.name()] = payload;
      Outbox(tx, "erased", anonymous);
      NotifyAvailability(tx, event_id);
      result.events.push_back(event_id);
      result.quotas.insert(result.quotas.end(), change.quotas.begin(), change.quotas.end());
      ++result.erased;
    }
    // Registrations the person handed over, or was offered: their history loses the person (a
    // hand-over still waiting for them is dropped), the registration stays its holder's, and the
    // notifications service forgets the mail to or about them.
    for (const auto& r : Exec(tx, sql::kRegistrationsOfPerson, email_norm)) {
      const std::string id = r[0].as<std::string>();
      if (!r[2].as<bool>()) {
        if (r[3].as<bool>()) Exec(tx, sql::kDropHandover, id);
        v1::Registration nobody;
        nobody.set_name("registrations/" + id);
        nobody.set_event("events/" + r[1].as<std::string>());
        const std::string payload = nobody.SerializeAsString();
        Exec(tx, sql::kScrubOutbox, id, email_norm,
             pqxx::binarystring(payload.data(), payload.size()));
        Exec(tx, sql::kScrubAnswers, id, email_norm,
             pqxx::binarystring(payload.data(), payload.size()));
        // The address travels as the event's secret, which the relay blanks once delivered.
        Outbox(tx, "person_erased", nobody, email_norm);
        ++result.others;
      }
      Exec(tx, sql::kForgetPerson, id, email_norm);
    }
    // Answers stored before they named their registration hold the address in clear.
    for (const auto& r : Exec(tx, sql::kLegacyAnswers, email_norm)) {
      v1::Registration stored;
      stored.ParseFromString(pqxx::binarystring(r[1]).str());
      auto it = anonymous_by_name.find(stored.name());
      if (it != anonymous_by_name.end()) {
        Exec(tx, sql::kSetAnswer, r[0].as<std::string>(),
             pqxx::binarystring(it->second.data(), it->second.size()));
      }
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

StatusOr<std::vector<QuotaState>> Repository::RecentQuotas() {
  std::vector<QuotaState> out;
  Status st = pool_.Read([&](pqxx::transaction_base& tx) -> Status {
    for (const auto& r : Exec(tx, sql::kRecentQuotas)) out.push_back(QuotaFromRow(r));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

StatusOr<std::pair<int64_t, double>> Repository::OutboxBacklog() {
  std::pair<int64_t, double> out;
  Status st = pool_.Read([&](pqxx::transaction_base& tx) -> Status {
    auto row = Exec(tx, sql::kOutboxBacklog).at(0);
    out = {row[0].as<int64_t>(), row[1].as<double>()};
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
