#pragma once
// Every SQL statement of the notifications service, each prepared once per connection.
#include "common/pg.hpp"
#include "ecd/notifications/v1/notifications.pb.h"
#include "ecd/registration/v1/registration.pb.h"

// Enum values the SQL compares with, by name (the asserts below keep them the protos').
#define ECD_SQL_PENDING "1"    // MessageState
#define ECD_SQL_SENT "2"       // MessageState
#define ECD_SQL_DEAD "3"       // MessageState
#define ECD_SQL_CANCELLED "4"  // MessageState
#define ECD_SQL_CONFIRMED "1"  // RegistrationStatus of a participant
static_assert(ecd::notifications::v1::MESSAGE_STATE_PENDING == 1 &&
              ecd::notifications::v1::MESSAGE_STATE_SENT == 2 &&
              ecd::notifications::v1::MESSAGE_STATE_DEAD == 3 &&
              ecd::notifications::v1::MESSAGE_STATE_CANCELLED == 4 &&
              ecd::registration::v1::REGISTRATION_STATUS_CONFIRMED == 1);

namespace ecd::notifications::sql {

using ::ecd::SqlStatement;

#define ECD_MESSAGE_COLUMNS \
  "id::text, coalesce(registration_id::text, ''), event_id::text, kind, language, recipient," \
  " subject, body, icalendar, state, attempts, " ECD_MICROS("next_attempt_time")              \
  ", last_error, " ECD_MICROS("create_time") ", coalesce(" ECD_MICROS("sent_time") ", 0)"

inline constexpr SqlStatement kAccept = {
    "accept",
    "INSERT INTO notifications.inbox (event_id, kind, registration_id) VALUES ($1, $2, $3)"
    " ON CONFLICT (event_id) DO NOTHING RETURNING 1"};
// Many relayed events at once (distinct ids): $1 event ids, $2 kinds, $3 registration ids; those
// accepted now come back.
inline constexpr SqlStatement kAcceptMany = {
    "accept_many",
    "INSERT INTO notifications.inbox (event_id, kind, registration_id) SELECT * FROM"
    " unnest($1::uuid[], $2::text[], $3::uuid[]) ON CONFLICT (event_id) DO NOTHING"
    " RETURNING event_id::text"};
// kUpsertParticipant for many registrations (distinct): those not erased come back.
inline constexpr SqlStatement kUpsertParticipants = {
    "upsert_participants",
    "INSERT INTO notifications.participants AS p (registration_id, event_id, status, email,"
    " given_name, family_name, language, time_zone) SELECT * FROM unnest($1::uuid[], $2::uuid[],"
    " $3::smallint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])"
    " ON CONFLICT (registration_id) DO UPDATE SET status = EXCLUDED.status,"
    " email = EXCLUDED.email, given_name = EXCLUDED.given_name,"
    " family_name = EXCLUDED.family_name, language = EXCLUDED.language,"
    " time_zone = EXCLUDED.time_zone, update_time = now() WHERE NOT p.erased"
    " RETURNING registration_id::text"};
// kInsertMessage for many messages without files (distinct dedupe keys, registration ids set):
// the kinds of those queued now come back.
inline constexpr SqlStatement kInsertMessages = {
    "insert_messages",
    "INSERT INTO notifications.messages (id, dedupe_key, registration_id, event_id, kind,"
    " language, recipient, recipient_name, subject, body, icalendar, traceparent) SELECT * FROM"
    " unnest($1::uuid[], $2::text[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[],"
    " $8::text[], $9::text[], $10::text[], $11::text[], $12::text[]) ON CONFLICT (dedupe_key)"
    " DO NOTHING RETURNING kind"};
// $1: event ids (text[]); those accepted before.
inline constexpr SqlStatement kInboxSeen = {
    "inbox_seen",
    "SELECT event_id::text FROM notifications.inbox WHERE event_id = ANY($1::uuid[])"};
// The participant as the relay describes them now. An erased participant stays erased: no row
// comes back then (and nothing changes).
inline constexpr SqlStatement kUpsertParticipant = {
    "upsert_participant",
    "INSERT INTO notifications.participants AS p (registration_id, event_id, status, email,"
    " given_name, family_name, language, time_zone) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    " ON CONFLICT (registration_id) DO UPDATE SET status = EXCLUDED.status,"
    " email = EXCLUDED.email, given_name = EXCLUDED.given_name,"
    " family_name = EXCLUDED.family_name, language = EXCLUDED.language,"
    " time_zone = EXCLUDED.time_zone, update_time = now() WHERE NOT p.erased RETURNING 1"};
// The address known for a registration before it is erased (its messages went there).
inline constexpr SqlStatement kParticipantEmail = {
    "participant_email",
    "SELECT email FROM notifications.participants WHERE registration_id = $1 FOR UPDATE"};
inline constexpr SqlStatement kIsErased = {
    "is_erased", "SELECT 1 FROM notifications.participants WHERE registration_id = $1 AND erased"};
inline constexpr SqlStatement kEraseParticipant = {
    "erase_participant",
    "INSERT INTO notifications.participants AS p (registration_id, event_id, status, email,"
    " given_name, family_name, language, time_zone, erased) VALUES ($1, $2, $3, '', '', '', $4,"
    " '', true) ON CONFLICT (registration_id) DO UPDATE SET status = EXCLUDED.status,"
    " email = '', given_name = '', family_name = '', time_zone = '', erased = true,"
    " update_time = now()"};
// The messages that hold the person: those about the registration (whoever they went to: a
// colleague in a hand-over too) and those sent to the address it had ($2, may be empty).
inline constexpr SqlStatement kMessagesOfPerson = {
    "messages_of_person",
    "SELECT id::text FROM notifications.messages WHERE registration_id = $1"
    " OR ($2 <> '' AND lower(recipient) = lower($2)) FOR UPDATE"};
// Someone a registration's history names was erased: the mail to them, and the hand-over mail
// about the registration (which names both people).
inline constexpr SqlStatement kMessagesOfFormerPerson = {
    "messages_of_former_person",
    "SELECT id::text FROM notifications.messages WHERE lower(recipient) = lower($2) OR"
    " (registration_id = $1 AND kind IN ('handover_verify', 'handover_requested', 'handed_over',"
    " 'handed_over_to_you', 'handover_expired')) FOR UPDATE"};
// After an erasure, nothing still waiting may go out, and nothing kept may name the person (the
// codes and keys in the bodies go with them). $1: message ids (uuid[]).
inline constexpr SqlStatement kForgetMessages = {
    "forget_messages",
    "UPDATE notifications.messages SET state = CASE WHEN state = " ECD_SQL_PENDING
    " THEN " ECD_SQL_CANCELLED
    " ELSE state END,"
    " recipient = '', recipient_name = '', subject = '', body = '', icalendar = '',"
    " last_error = '' WHERE id = ANY($1::uuid[])"};
// A mail server's answer may quote the address.
inline constexpr SqlStatement kForgetAttempts = {
    "forget_attempts",
    "UPDATE notifications.attempts SET error = '' WHERE message_id = ANY($1::uuid[])"
    " AND error <> ''"};
// The person's files (a certificate names them) go too; the digests of the files they held.
inline constexpr SqlStatement kForgetAttachments = {
    "forget_attachments",
    "DELETE FROM notifications.message_attachments WHERE message_id = ANY($1::uuid[])"
    " RETURNING sha256"};
// $1: digests (text[]) whose bytes no message needs any more.
inline constexpr SqlStatement kDropUnusedBlobs = {
    "drop_unused_blobs",
    "DELETE FROM notifications.blobs b WHERE b.sha256 = ANY($1::text[]) AND NOT EXISTS"
    " (SELECT 1 FROM notifications.message_attachments a WHERE a.sha256 = b.sha256)"};
inline constexpr SqlStatement kForgetKitItems = {
    "forget_kit_items", "DELETE FROM notifications.kit_items WHERE registration_id = $1"};
inline constexpr SqlStatement kInsertMessage = {
    "insert_message",
    "INSERT INTO notifications.messages (id, dedupe_key, registration_id, event_id, kind,"
    " language, recipient, recipient_name, subject, body, icalendar, traceparent) VALUES ($1,"
    " $2, NULLIF($3, '')::uuid, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (dedupe_key)"
    " DO NOTHING RETURNING 1"};
inline constexpr SqlStatement kHasBlob = {"has_blob",
                                          "SELECT 1 FROM notifications.blobs WHERE sha256 = $1"};
inline constexpr SqlStatement kInsertBlob = {
    "insert_blob",
    "INSERT INTO notifications.blobs (sha256, content) VALUES ($1, $2) ON CONFLICT DO NOTHING"};
inline constexpr SqlStatement kInsertAttachment = {
    "insert_attachment",
    "INSERT INTO notifications.message_attachments (message_id, position, filename, content_type,"
    " size_bytes, sha256) VALUES ($1, $2, $3, $4, $5, $6)"};
inline constexpr SqlStatement kInsertKitItem = {
    "insert_kit_item",
    "INSERT INTO notifications.kit_items (registration_id, event_id, material, version,"
    " message_id, attached) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING"};
inline constexpr SqlStatement kAttachments = {
    "attachments",
    "SELECT a.filename, a.content_type, a.sha256, b.content FROM"
    " notifications.message_attachments a JOIN notifications.blobs b USING (sha256)"
    " WHERE a.message_id = $1 ORDER BY a.position"};
// $1: message ids (uuid[]).
inline constexpr SqlStatement kAttachmentInfo = {
    "attachment_info",
    "SELECT message_id::text, filename, content_type, size_bytes, sha256 FROM"
    " notifications.message_attachments WHERE message_id = ANY($1::uuid[])"
    " ORDER BY message_id, position"};
// The queue: messages waiting to be sent (due or waiting for a retry) and the oldest one's age.
inline constexpr SqlStatement kQueueStats = {
    "queue_stats",
    "SELECT count(*), COALESCE(extract(epoch from now() - min(create_time)), 0)::float8"
    " FROM notifications.queue"};
// Due messages no other sender holds, oldest first; held by $3 for $2 milliseconds. The claim
// changes the small queue rows only; the messages' content comes from a join.
inline constexpr SqlStatement kClaim = {
    "claim",
    "WITH c AS (UPDATE notifications.queue SET claimed_until = now() + $2 * interval"
    " '1 millisecond', claimed_by = $3 WHERE message_id IN (SELECT message_id FROM"
    " notifications.queue WHERE next_attempt_time <= now() AND (claimed_until IS NULL OR"
    " claimed_until < now()) ORDER BY next_attempt_time LIMIT $1 FOR UPDATE SKIP LOCKED)"
    " RETURNING message_id, next_attempt_time)"
    " SELECT c.message_id::text, coalesce(m.state, 0), m.recipient, m.subject, m.body,"
    " m.icalendar, m.kind, m.attempts, m.recipient_name, m.traceparent, EXISTS (SELECT 1 FROM"
    " notifications.message_attachments a WHERE a.message_id = m.id) FROM c LEFT JOIN"
    " notifications.messages m ON m.id = c.message_id ORDER BY c.next_attempt_time"};
// Queue rows just claimed whose message is not pending (none, unless something wrote the
// messages past the triggers): they go. $1: message ids (uuid[]).
inline constexpr SqlStatement kDropStaleQueueRows = {
    "drop_stale_queue_rows",
    "DELETE FROM notifications.queue q WHERE q.message_id = ANY($1::uuid[]) AND NOT EXISTS"
    " (SELECT 1 FROM notifications.messages m WHERE m.id = q.message_id AND m.state "
    "= " ECD_SQL_PENDING ")"};
// Still ours? A sender that lost its claim (it stalled beyond the lease and another sender took
// the message) finds no row.
inline constexpr SqlStatement kRenewClaim = {
    "renew_claim",
    "UPDATE notifications.queue SET claimed_until = now() + $3 * interval '1 millisecond'"
    " WHERE message_id = $1 AND claimed_by = $2 AND claimed_until IS NOT NULL RETURNING 1"};
// $1: message ids (uuid[]), $2: the sender, $3: lease in milliseconds. Those still its own (and
// now extended) come back. A row locked meanwhile (being recorded as sent, or erased) is passed
// over rather than waited for: the two lock queue rows in other orders, and waiting could
// deadlock; a claim not extended is asked for again before its mail goes.
inline constexpr SqlStatement kExtendClaims = {
    "extend_claims",
    "WITH mine AS (SELECT message_id FROM notifications.queue WHERE message_id = ANY($1::uuid[])"
    " AND claimed_by = $2 AND claimed_until IS NOT NULL FOR UPDATE SKIP LOCKED)"
    " UPDATE notifications.queue q SET claimed_until = now() + $3 * interval '1 millisecond'"
    " FROM mine WHERE q.message_id = mine.message_id RETURNING q.message_id::text"};
// Gives unsent messages back (passing over rows locked meanwhile, as kExtendClaims: their
// claims run out by themselves).
inline constexpr SqlStatement kReleaseClaims = {
    "release_claims",
    "WITH mine AS (SELECT message_id FROM notifications.queue WHERE message_id = ANY($1::uuid[])"
    " AND claimed_by = $2 FOR UPDATE SKIP LOCKED) UPDATE notifications.queue q SET"
    " claimed_until = NULL FROM mine WHERE q.message_id = mine.message_id"};
// $1: message ids (uuid[]) just sent: each still pending is marked sent and its attempt recorded
// (a trigger takes it out of the queue).
// The rows are locked in id order, so that two batches never wait for each other in a cycle.
inline constexpr SqlStatement kMarkSentMany = {
    "mark_sent_many",
    "WITH locked AS (SELECT id FROM notifications.messages WHERE id = ANY($1::uuid[])"
    " AND state = " ECD_SQL_PENDING
    " ORDER BY id FOR UPDATE), sent AS ("
    "UPDATE notifications.messages m SET state = " ECD_SQL_SENT
    ", attempts = m.attempts + 1, sent_time = now(), last_error = ''"
    " FROM locked WHERE m.id = locked.id AND m.state = " ECD_SQL_PENDING
    " RETURNING m.id, m.attempts)"
    " INSERT INTO notifications.attempts (message_id, attempt, ok, error)"
    " SELECT id, attempts, true, '' FROM sent ON CONFLICT DO NOTHING"};
// $3: milliseconds until the retry; $4: give up (dead) now; $5: the sender, which must still hold
// the message (one that stalled past its lease and lost it to another sender records nothing).
// A retry stays queued, due later; a dead message leaves the queue (a trigger). The message's row
// is locked before its queue row, as everywhere (an erasure, a sent mark: their triggers), so that
// none waits in a cycle.
inline constexpr SqlStatement kMarkFailed = {
    "mark_failed",
    "WITH pending AS (SELECT id FROM notifications.messages WHERE id = $1 AND state "
    "= " ECD_SQL_PENDING
    " FOR UPDATE), own AS (SELECT message_id FROM notifications.queue WHERE message_id ="
    " (SELECT id FROM pending) AND claimed_by = $5 FOR UPDATE), m AS (UPDATE"
    " notifications.messages SET attempts = attempts + 1, last_error = $2, next_attempt_time ="
    " now() + $3 * interval '1 millisecond', state = CASE WHEN $4 THEN " ECD_SQL_DEAD
    " ELSE " ECD_SQL_PENDING
    " END FROM own WHERE id = own.message_id RETURNING id, attempts,"
    " state, next_attempt_time), retry AS (UPDATE notifications.queue q SET next_attempt_time ="
    " m.next_attempt_time, claimed_until = NULL FROM m WHERE q.message_id = m.id AND"
    " m.state = " ECD_SQL_PENDING ") SELECT attempts FROM m"};
inline constexpr SqlStatement kRecordAttempt = {
    "record_attempt",
    "INSERT INTO notifications.attempts (message_id, attempt, ok, error) VALUES ($1, $2, $3, $4)"
    " ON CONFLICT DO NOTHING"};
inline constexpr SqlStatement kGetMessage = {
    "get_message", "SELECT " ECD_MESSAGE_COLUMNS " FROM notifications.messages WHERE id = $1"};
// $1 event, $2 registration, $3 state, $4 cursor micros, $5 cursor id, $6 limit.
inline constexpr SqlStatement kListMessages = {
    "list_messages",
    "SELECT " ECD_MESSAGE_COLUMNS
    " FROM notifications.messages"
    " WHERE ($1 = '' OR event_id = NULLIF($1, '')::uuid)"
    " AND ($2 = '' OR registration_id = NULLIF($2, '')::uuid) AND ($3 = 0 OR state = $3)"
    " AND ($4 = '' OR (create_time, id) > ('epoch'::timestamptz + NULLIF($4, '')::bigint *"
    " interval '1 microsecond', NULLIF($5, '')::uuid)) ORDER BY create_time, id LIMIT $6"};
inline constexpr SqlStatement kMessageByDedupeKey = {
    "message_by_dedupe_key",
    "SELECT " ECD_MESSAGE_COLUMNS " FROM notifications.messages WHERE dedupe_key = $1"};
inline constexpr SqlStatement kGetParticipant = {
    "get_participant",
    "SELECT registration_id::text, event_id::text, status, email, given_name, family_name,"
    " language, time_zone, erased FROM notifications.participants WHERE registration_id = $1"};
// Each confirmed participant of event $1 with their latest kit message, if any (a kit sent
// before the event moved still counts: moving it does not send the kit again).
inline constexpr SqlStatement kKitRecipients = {
    "kit_recipients",
    "SELECT p.registration_id::text, coalesce(k.state, 0),"
    " coalesce(" ECD_MICROS("k.create_time") ", 0) FROM notifications.participants p"
    " LEFT JOIN LATERAL (SELECT m.state, m.create_time FROM notifications.messages m"
    " WHERE m.registration_id = p.registration_id AND m.kind = 'info_kit' AND m.state <> 4"
    " ORDER BY m.create_time DESC LIMIT 1) k ON true"
    " WHERE p.event_id = $1 AND p.status = " ECD_SQL_CONFIRMED " AND NOT p.erased ORDER BY p.registration_id"};
inline constexpr SqlStatement kKitItemsOfEvent = {
    "kit_items_of_event",
    "SELECT registration_id::text, material, version, attached FROM notifications.kit_items"
    " WHERE event_id = $1"};
inline constexpr SqlStatement kConfirmedOfEvent = {
    "confirmed_of_event",
    "SELECT registration_id::text, event_id::text, status, email, given_name, family_name,"
    " language, time_zone, erased FROM notifications.participants WHERE event_id = $1"
    " AND status = " ECD_SQL_CONFIRMED " AND NOT erased ORDER BY registration_id"};

// Whether this service heard of a registration: a relayed change, a participant, a message.
inline constexpr SqlStatement kRegistrationKnown = {
    "registration_known",
    "SELECT EXISTS (SELECT 1 FROM notifications.participants WHERE registration_id = $1)"
    " OR EXISTS (SELECT 1 FROM notifications.inbox WHERE registration_id = $1)"
    " OR EXISTS (SELECT 1 FROM notifications.messages WHERE registration_id = $1)"};
// Whether an event has messages or participants here (then no need to ask the catalogue).
inline constexpr SqlStatement kEventKnown = {
    "event_known",
    "SELECT EXISTS (SELECT 1 FROM notifications.participants WHERE event_id = $1)"
    " OR EXISTS (SELECT 1 FROM notifications.messages WHERE event_id = $1)"};

#undef ECD_MESSAGE_COLUMNS

// --- The planner: events followed, schedules claimed, sent and released ---

#define ECD_TS(param) "('epoch'::timestamptz + " param "::bigint * interval '1 microsecond')"

inline constexpr SqlStatement kFollowed = {
    "followed_events",
    "SELECT DISTINCT event_id::text FROM notifications.participants WHERE status "
    "= " ECD_SQL_CONFIRMED " AND NOT erased"};
inline constexpr SqlStatement kWatched = {
    "watched_event",
    "SELECT revision, " ECD_MICROS("start_time") ", " ECD_MICROS("end_time")
    ", status, recording_state FROM notifications.watched_events WHERE event_id = $1"};
inline constexpr SqlStatement kSaveWatched = {
    "save_watched",
    "INSERT INTO notifications.watched_events (event_id, revision, start_time, end_time, status,"
    " recording_state) VALUES ($1, $2, " ECD_TS("$3") ", " ECD_TS("$4") ", $5, $6)"
    " ON CONFLICT (event_id) DO UPDATE SET revision = EXCLUDED.revision,"
    " start_time = EXCLUDED.start_time, end_time = EXCLUDED.end_time, status = EXCLUDED.status,"
    " recording_state = EXCLUDED.recording_state, checked_time = now()"};
// A schedule whose time changed is sent again (unless its new time has already passed).
inline constexpr SqlStatement kPlanSchedule = {
    "plan_schedule",
    "INSERT INTO notifications.schedules AS s (event_id, kind, due_time) VALUES ($1, $2, " ECD_TS(
        "$3") ") ON CONFLICT (event_id, kind) DO UPDATE SET due_time = EXCLUDED.due_time,"
              " done_time = CASE WHEN s.due_time <> EXCLUDED.due_time AND EXCLUDED.due_time >"
              " now() THEN NULL ELSE s.done_time END"};
inline constexpr SqlStatement kCloseSchedules = {
    "close_schedules",
    "UPDATE notifications.schedules SET done_time = coalesce(done_time, now())"
    " WHERE event_id = $1"};
// Due schedules no replica holds, held for $1 milliseconds.
inline constexpr SqlStatement kClaimDue = {
    "claim_due",
    "UPDATE notifications.schedules s SET claimed_until = now() + $1 * interval '1 millisecond'"
    " FROM notifications.watched_events w WHERE w.event_id = s.event_id"
    " AND (s.event_id, s.kind) IN (SELECT event_id, kind FROM notifications.schedules"
    " WHERE done_time IS NULL AND due_time <= now()"
    " AND (claimed_until IS NULL OR claimed_until < now()) ORDER BY due_time LIMIT 20"
    " FOR UPDATE SKIP LOCKED) RETURNING s.event_id::text, s.kind, " ECD_MICROS("s.due_time")
    ", " ECD_MICROS("w.start_time") ", w.status, (extract(epoch from now()) * 1000000)::bigint"};
// Done, unless it was re-planned meanwhile (then it is due again at its new time).
inline constexpr SqlStatement kScheduleDone = {
    "schedule_done",
    "UPDATE notifications.schedules SET claimed_until = NULL, done_time = CASE WHEN due_time ="
    " " ECD_TS("$3") " THEN now() ELSE done_time END WHERE event_id = $1 AND kind = $2"};
inline constexpr SqlStatement kScheduleRelease = {
    "schedule_release",
    "UPDATE notifications.schedules SET claimed_until = NULL WHERE event_id = $1 AND kind = $2"};
// Events whose kit went out and that start in more than an hour, held for $1 milliseconds; $2
// is the published status.
inline constexpr SqlStatement kClaimKitFollowUps = {
    "claim_kit_follow_ups",
    "UPDATE notifications.schedules s SET claimed_until = now() + $1 * interval '1 millisecond'"
    " FROM notifications.watched_events w WHERE w.event_id = s.event_id"
    " AND (s.event_id, s.kind) IN (SELECT k.event_id, k.kind FROM notifications.schedules k"
    " JOIN notifications.watched_events e USING (event_id) WHERE k.kind = 'info_kit'"
    " AND k.done_time IS NOT NULL AND k.due_time <= now() AND e.status = $2"
    " AND e.start_time > now() + interval '1 hour'"
    " AND (k.claimed_until IS NULL OR k.claimed_until < now()) ORDER BY k.event_id LIMIT 50"
    " FOR UPDATE OF k SKIP LOCKED) RETURNING s.event_id::text, " ECD_MICROS("w.start_time")};

}  // namespace ecd::notifications::sql
#undef ECD_TS
