#pragma once
// Every SQL statement of the registration service, each prepared once per connection. Lock
// order, everywhere: the quota row of (event, country) first, then registrations.
#include "common/pg.hpp"
#include "ecd/registration/v1/registration.pb.h"

// RegistrationStatus values the SQL compares with, by name (the assert keeps them the proto's).
#define ECD_SQL_CONFIRMED "1"
#define ECD_SQL_PENDING_APPROVAL "2"
#define ECD_SQL_WAITLISTED "3"
#define ECD_SQL_EXPIRED "7"
static_assert(ecd::registration::v1::REGISTRATION_STATUS_CONFIRMED == 1 &&
              ecd::registration::v1::REGISTRATION_STATUS_PENDING_APPROVAL == 2 &&
              ecd::registration::v1::REGISTRATION_STATUS_WAITLISTED == 3 &&
              ecd::registration::v1::REGISTRATION_STATUS_EXPIRED == 7);

namespace ecd::registration::sql {

using ::ecd::SqlStatement;

#define ECD_REGISTRATION_COLUMNS \
  "r.id::text, r.event_id::text, r.country, r.email, r.given_name, r.family_name,"  \
  " r.organisation, r.affiliation, r.job_title, r.preferred_language, r.time_zone," \
  " r.privacy_consent, r.recording_consent, r.status,"                              \
  " CASE WHEN r.status = " ECD_SQL_WAITLISTED " THEN (SELECT count(*) FROM registration.registrations w" \
  " WHERE w.event_id = r.event_id AND w.country = r.country AND w.status = " ECD_SQL_WAITLISTED \
  " AND w.waitlist_seq <= r.waitlist_seq) ELSE 0 END,"                              \
  " r.attended_minutes, r.erased, " ECD_MICROS("r.create_time") ", " ECD_MICROS(    \
      "r.update_time") ", r.certificate_name, r.verified,"                                     \
  " coalesce(" ECD_MICROS("r.hold_expire_time") ", 0), r.key_version, r.rejection_reason"

inline constexpr SqlStatement kGetRequest = {
    "get_request",
    "SELECT request_hash, response FROM registration.idempotency_keys WHERE request_id = $1"};
inline constexpr SqlStatement kPurgeRequests = {
    "purge_requests",
    "DELETE FROM registration.idempotency_keys WHERE create_time < now() - $1::interval"};

inline constexpr SqlStatement kLockQuota = {
    "lock_quota",
    "SELECT seat_limit, taken, waitlisted, manual_approval FROM registration.quotas"
    " WHERE event_id = $1 AND country = $2 FOR UPDATE"};
// Creates the counter on first use, follows the catalogue's limit and approval mode, and locks
// the row: one round trip (the function of migration 009, which Register's group calls too).
inline constexpr SqlStatement kUpsertQuota = {
    "upsert_quota", "SELECT * FROM registration.upsert_quota($1, $2, $3, $4)"};

#define ECD_QUOTA_RETURNING \
  " RETURNING event_id::text, country, seat_limit, taken, waitlisted, version"
inline constexpr SqlStatement kFreeSeat = {
    "free_seat",
    "UPDATE registration.quotas SET taken = taken - 1, version = version + 1"
    " WHERE event_id = $1 AND country = $2" ECD_QUOTA_RETURNING};
inline constexpr SqlStatement kLeaveWaitlist = {
    "leave_waitlist",
    "UPDATE registration.quotas SET waitlisted = waitlisted - 1, version = version + 1"
    " WHERE event_id = $1 AND country = $2" ECD_QUOTA_RETURNING};
inline constexpr SqlStatement kPromoteSeat = {
    "promote_seat",
    "UPDATE registration.quotas SET taken = taken + 1, waitlisted = waitlisted - 1,"
    " version = version + 1 WHERE event_id = $1 AND country = $2 AND taken < "
    "seat_limit" ECD_QUOTA_RETURNING};
// The counters of events whose seats moved in the last 30 days (metrics), bounded.
inline constexpr SqlStatement kRecentQuotas = {
    "recent_quotas",
    "SELECT event_id::text, country, seat_limit, taken, waitlisted, version FROM "
    "registration.quotas WHERE update_time > now() - interval '30 days'"
    " ORDER BY event_id, country LIMIT 5000"};
// The outbox's backlog: how many events wait for the notifications service, and for how long the
// oldest has.
inline constexpr SqlStatement kOutboxBacklog = {
    "outbox_backlog",
    "SELECT count(*), COALESCE(extract(epoch from now() - min(create_time)), 0)::float8"
    " FROM registration.outbox WHERE delivered_time IS NULL"};
inline constexpr SqlStatement kQuotasOfEvent = {
    "quotas_of_event",
    "SELECT event_id::text, country, seat_limit, taken, waitlisted, version FROM "
    "registration.quotas"
    " WHERE event_id = $1 ORDER BY country"};

// The active registration of an address for an event (decoys aside).
inline constexpr SqlStatement kActiveByEmail = {
    "active_by_email",
    "SELECT id::text FROM registration.registrations WHERE event_id = $1 AND email_norm = $2"
    " AND status IN (" ECD_SQL_CONFIRMED ", " ECD_SQL_PENDING_APPROVAL ", " ECD_SQL_WAITLISTED
    ")"
    " AND NOT decoy"};
// What a verification, a hand-over or an expiry looks at, under the registration's lock.
inline constexpr SqlStatement kLockHold = {
    "lock_hold",
    "SELECT status, verified, coalesce(hold_expire_time < now(), false), verification_hash,"
    " verification_attempts, decoy, pending_participant FROM registration.registrations"
    " WHERE id = $1 FOR UPDATE"};
inline constexpr SqlStatement kMarkVerified = {
    "mark_verified",
    "UPDATE registration.registrations SET verified = true, hold_expire_time = NULL,"
    " verification_hash = '', verification_attempts = 0, update_time = now() WHERE id = $1"};
inline constexpr SqlStatement kCountAttempt = {
    "count_attempt",
    "UPDATE registration.registrations SET verification_attempts = verification_attempts + 1"
    " WHERE id = $1"};
// Holds (and hand-overs) whose time ran out, oldest first.
inline constexpr SqlStatement kExpiredHolds = {
    "expired_holds",
    "SELECT id::text, event_id::text, country FROM registration.registrations"
    " WHERE hold_expire_time < now() ORDER BY hold_expire_time LIMIT $1"};
// Claimed under the quota lock; SKIP LOCKED: a replica never waits for (or repeats) another's.
inline constexpr SqlStatement kClaimExpiredHold = {
    "claim_expired_hold",
    "SELECT status, verified, pending_participant IS NOT NULL, decoy FROM"
    " registration.registrations WHERE id = $1 AND hold_expire_time < now() FOR UPDATE SKIP "
    "LOCKED"};
inline constexpr SqlStatement kExpireHold = {
    "expire_hold",
    "UPDATE registration.registrations SET status = " ECD_SQL_EXPIRED
    ", waitlist_seq = NULL,"
    " hold_expire_time = NULL, verification_hash = '', update_time = now() WHERE id = $1"};
inline constexpr SqlStatement kDropHandover = {
    "drop_handover",
    "UPDATE registration.registrations SET pending_participant = NULL, hold_expire_time = NULL,"
    " verification_hash = '', verification_attempts = 0, update_time = now() WHERE id = $1"};
inline constexpr SqlStatement kSetHandover = {
    "set_handover",
    "UPDATE registration.registrations SET pending_participant = $2, hold_expire_time = now() +"
    " $3 * interval '1 microsecond', verification_hash = $4, verification_attempts = 0,"
    " update_time = now() WHERE id = $1"};
// $2 email, $3 email_norm, $4 given, $5 family, $6 certificate name, $7 organisation,
// $8 affiliation, $9 job title, $10 language, $11 time zone, $12 recording consent.
inline constexpr SqlStatement kApplyHandover = {
    "apply_handover",
    "UPDATE registration.registrations SET email = $2, email_norm = $3, given_name = $4,"
    " family_name = $5, certificate_name = $6, organisation = $7, affiliation = $8,"
    " job_title = $9, preferred_language = $10, time_zone = $11, recording_consent = $12,"
    " pending_participant = NULL, hold_expire_time = NULL, verification_hash = '',"
    " verification_attempts = 0, key_version = key_version + 1, update_time = now()"
    " WHERE id = $1"};
inline constexpr SqlStatement kCorrectParticipant = {
    "correct_participant",
    "UPDATE registration.registrations SET given_name = $2, family_name = $3,"
    " certificate_name = $4, organisation = $5, job_title = $6, preferred_language = $7,"
    " time_zone = $8, update_time = now() WHERE id = $1"};
// $3 the override (0: none, the event's $4 applies).
inline constexpr SqlStatement kSetSeats = {
    "set_seats",
    "UPDATE registration.quotas SET seat_override = NULLIF($3, 0), seat_limit = CASE WHEN $3 = 0"
    " THEN $4 ELSE $3 END, version = version + 1 WHERE event_id = $1 AND country = $2"
    " RETURNING event_id::text, country, seat_limit, taken, waitlisted, version"};
// One event's registrations by country, status, verification, and the minutes of each confirmed
// one (for reports).
inline constexpr SqlStatement kReportCounts = {
    "report_counts",
    "SELECT country, status, verified, count(*), coalesce(array_agg(attended_minutes::text)"
    " FILTER (WHERE status = " ECD_SQL_CONFIRMED
    "), '{}') FROM registration.registrations WHERE event_id = $1"
    " AND NOT decoy GROUP BY country, status, verified ORDER BY country"};
inline constexpr SqlStatement kReportAffiliations = {
    "report_affiliations",
    "SELECT affiliation, count(*) FROM registration.registrations WHERE event_id = $1"
    " AND status = " ECD_SQL_CONFIRMED
    " AND verified AND NOT decoy GROUP BY affiliation ORDER BY affiliation"};
inline constexpr SqlStatement kEventHasRegistrations = {
    "event_has_quotas", "SELECT 1 FROM registration.quotas WHERE event_id = $1 LIMIT 1"};
inline constexpr SqlStatement kSetRejectionReason = {
    "set_rejection_reason",
    "UPDATE registration.registrations SET rejection_reason = $2 WHERE id = $1"};
inline constexpr SqlStatement kHoldOf = {
    "hold_of", "SELECT verified FROM registration.registrations WHERE id = $1"};
inline constexpr SqlStatement kSetStatus = {
    "set_status",
    "UPDATE registration.registrations SET status = $2::smallint,"
    " waitlist_seq = CASE WHEN $2::smallint = 3 THEN waitlist_seq END, update_time = now()"
    " WHERE id = $1"};
inline constexpr SqlStatement kFirstWaitlisted = {
    "first_waitlisted",
    "SELECT id::text FROM registration.registrations WHERE event_id = $1 AND country = $2"
    " AND status = " ECD_SQL_WAITLISTED " ORDER BY waitlist_seq LIMIT 1 FOR UPDATE"};
inline constexpr SqlStatement kWhereIs = {
    "where_is", "SELECT event_id::text, country FROM registration.registrations WHERE id = $1"};
inline constexpr SqlStatement kGetRegistration = {
    "get_registration",
    "SELECT " ECD_REGISTRATION_COLUMNS " FROM registration.registrations r WHERE r.id = $1"};
inline constexpr SqlStatement kLockRegistration = {
    "lock_registration", "SELECT status FROM registration.registrations WHERE id = $1 FOR UPDATE"};

// $1 event ('' = all), $2 country, $3 status (0 = all), $4 cursor micros, $5 cursor id,
// $6 limit.
inline constexpr SqlStatement kListRegistrations = {
    "list_registrations",
    "SELECT " ECD_REGISTRATION_COLUMNS
    " FROM registration.registrations r"
    " WHERE ($1 = '' OR r.event_id = NULLIF($1, '')::uuid) AND ($2 = '' OR r.country = $2)"
    " AND ($3 = 0 OR r.status = $3) AND ($4 = '' OR (r.create_time, r.id) >"
    " ('epoch'::timestamptz + NULLIF($4, '')::bigint * interval '1 microsecond',"
    " NULLIF($5, '')::uuid)) ORDER BY r.create_time, r.id LIMIT $6"};

inline constexpr SqlStatement kInsertOutbox = {
    "insert_outbox",
    "INSERT INTO registration.outbox (event_id, registration_id, kind, payload, secret,"
    " traceparent) VALUES ($1, $2, $3, $4, $5, NULLIF($6, ''))"};
// Register's decisions for a group, one subtransaction each (migration 009).
inline constexpr SqlStatement kRegisterGroup = {
    "register_group",
    "SELECT * FROM registration.register_group($1::text[], $2::text[], $3::uuid[], $4::uuid[],"
    " $5::text[], $6::integer[], $7::boolean[], $8::boolean[], $9::bigint[], $10::text[],"
    " $11::text[], $12::text[], $13::text[], $14::integer[], $15::text[], $16::text[],"
    " $17::text[], $18::boolean[], $19::boolean[], $20::text[], $21::text[])"};
// What a group's registrations write besides their rows, in one round trip: the outbox rows in
// order, the answers kept for retries, and one availability notification per event.
inline constexpr SqlStatement kFinishRegisterGroup = {
    "finish_register_group",
    "SELECT registration.finish_register_group($1::uuid[], $2::uuid[], $3::text[], $4::bytea[],"
    " $5::text[], $6::text[], $7::text[], $8::bytea[], $9::uuid[], $10::text[])"};
inline constexpr SqlStatement kNotifyAvailability = {"notify_availability",
                                                     "SELECT pg_notify('ecd_availability', $1)"};

// An address's registrations, decoys included (a decoy keeps the address in `email`).
inline constexpr SqlStatement kEmailPlaces = {
    "email_places",
    "SELECT DISTINCT event_id::text, country FROM registration.registrations"
    " WHERE (email_norm = $1 OR (decoy AND email = $1)) AND NOT erased ORDER BY 1, 2"};
inline constexpr SqlStatement kEmailRegistrations = {
    "email_registrations",
    "SELECT id::text, event_id::text, country, status FROM registration.registrations"
    " WHERE (email_norm = $1 OR (decoy AND email = $1)) AND NOT erased ORDER BY id FOR UPDATE"};
// Someone a registration's history names besides its holder (migration 008).
inline constexpr SqlStatement kRememberPerson = {
    "remember_person",
    "INSERT INTO registration.registration_people (registration_id, email) VALUES ($1, $2)"
    " ON CONFLICT DO NOTHING"};
// The registrations whose history names the address without it being their holder now: where
// they are (to lock the quota first), whether they were erased since, whether a hand-over to the
// address is still pending.
inline constexpr SqlStatement kPlacesOfPerson = {
    "places_of_person",
    "SELECT DISTINCT r.event_id::text, r.country FROM registration.registration_people p JOIN"
    " registration.registrations r ON r.id = p.registration_id WHERE p.email = $1 ORDER BY 1, 2"};
inline constexpr SqlStatement kRegistrationsOfPerson = {
    "registrations_of_person",
    "SELECT r.id::text, r.event_id::text, r.erased, r.pending_participant IS NOT NULL AND"
    " position(convert_to($1, 'UTF8') in r.pending_participant) > 0 FROM"
    " registration.registration_people p JOIN registration.registrations r ON r.id ="
    " p.registration_id WHERE p.email = $1 ORDER BY r.id FOR UPDATE OF r"};
// What the outbox and the stored answers of registration $1 hold about the address $2 becomes
// $3 (the registration without anyone's personal data).
inline constexpr SqlStatement kScrubOutbox = {
    "scrub_outbox",
    "UPDATE registration.outbox SET payload = $3, secret = '' WHERE registration_id = $1"
    " AND position(convert_to($2, 'UTF8') in payload) > 0"};
inline constexpr SqlStatement kScrubAnswers = {
    "scrub_answers",
    "UPDATE registration.idempotency_keys SET response = $3 WHERE registration_id = $1"
    " AND position(convert_to($2, 'UTF8') in response) > 0"};
inline constexpr SqlStatement kForgetPerson = {
    "forget_person",
    "DELETE FROM registration.registration_people WHERE registration_id = $1 AND email = $2"};
inline constexpr SqlStatement kHolderEmail = {
    "holder_email",
    "SELECT email FROM registration.registrations WHERE id = $1 AND NOT decoy AND NOT erased"};
inline constexpr SqlStatement kEraseAnswers = {
    "erase_answers",
    "UPDATE registration.idempotency_keys SET response = $2 WHERE registration_id = $1"};
// Answers stored before they named their registration: found by the address they hold.
inline constexpr SqlStatement kLegacyAnswers = {
    "legacy_answers",
    "SELECT request_id, response FROM registration.idempotency_keys WHERE registration_id IS NULL"
    " AND response IS NOT NULL AND position(convert_to($1, 'UTF8') in response) > 0 FOR UPDATE"};
inline constexpr SqlStatement kSetAnswer = {
    "set_answer", "UPDATE registration.idempotency_keys SET response = $2 WHERE request_id = $1"};
inline constexpr SqlStatement kAnonymise = {
    "anonymise",
    "UPDATE registration.registrations SET email = '', email_norm = 'erased:' || id::text,"
    " given_name = '', family_name = '', certificate_name = '', organisation = '', job_title = '',"
    " time_zone = '', pending_participant = NULL, verification_hash = '', rejection_reason = '',"
    " erased = true, update_time = now() WHERE id = $1"};
inline constexpr SqlStatement kRewriteOutbox = {
    "rewrite_outbox",
    "UPDATE registration.outbox SET payload = $2, secret = '' WHERE registration_id = $1"};

inline constexpr SqlStatement kAttendanceCandidates = {
    "attendance_candidates",
    "SELECT id::text, email_norm FROM registration.registrations WHERE event_id = $1"
    " AND email_norm = ANY($2::text[]) AND NOT erased AND NOT decoy ORDER BY (status IN "
    "(" ECD_SQL_CONFIRMED ", " ECD_SQL_PENDING_APPROVAL ", " ECD_SQL_WAITLISTED
    ")) "
    "DESC,"
    " create_time DESC"};
inline constexpr SqlStatement kRegisteredEmails = {
    "registered_emails",
    "SELECT DISTINCT email_norm FROM registration.registrations WHERE event_id = $1 AND NOT erased"
    " AND NOT decoy ORDER BY 1"};
inline constexpr SqlStatement kSetAttendance = {
    "set_attendance",
    "UPDATE registration.registrations SET attended_minutes = $2, update_time = now()"
    " WHERE id = $1 AND attended_minutes <> $2 RETURNING id"};

// $1 cursor micros ('' = from the start), $2 cursor id, $3 limit.
inline constexpr SqlStatement kErasures = {
    "erasures",
    "SELECT id::text, " ECD_MICROS("update_time") " FROM registration.registrations WHERE erased"
    " AND ($1 = '' OR (update_time, id) > ('epoch'::timestamptz + NULLIF($1, '')::bigint *"
    " interval '1 microsecond', NULLIF($2, '')::uuid)) ORDER BY update_time, id LIMIT $3"};

#undef ECD_REGISTRATION_COLUMNS
#undef ECD_QUOTA_RETURNING

// --- The outbox relay (its own connection; one replica at a time) ---
inline constexpr SqlStatement kRelayLeader = {
    "relay_leader", "SELECT pg_try_advisory_lock(hashtext('ecd.registration.relay'))"};
inline constexpr SqlStatement kRelayPending = {
    "relay_pending",
    "SELECT id, event_id::text, kind, payload, " ECD_MICROS("create_time") ", secret,"
    " COALESCE(traceparent, '') FROM registration.outbox WHERE delivered_time IS NULL"
    " ORDER BY id LIMIT $1"};
inline constexpr SqlStatement kRelayDelivered = {
    "relay_delivered",
    "UPDATE registration.outbox SET delivered_time = now(), secret = ''"
    " WHERE id = ANY($1::bigint[])"};

}  // namespace ecd::registration::sql
