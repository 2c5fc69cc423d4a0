#pragma once
// Every SQL statement of the notifications service, each prepared once per connection.
#include "common/pg.hpp"

namespace ecd::notifications::sql {

using ::ecd::SqlStatement;

#define ECD_MICROS(col) "(extract(epoch from " col ") * 1000000)::bigint"
#define ECD_MESSAGE_COLUMNS \
  "id::text, coalesce(registration_id::text, ''), event_id::text, kind, language, recipient," \
  " subject, body, icalendar, state, attempts, " ECD_MICROS("next_attempt_time")              \
  ", last_error, " ECD_MICROS("create_time") ", coalesce(" ECD_MICROS("sent_time") ", 0)"

inline constexpr SqlStatement kAccept = {
    "accept",
    "INSERT INTO notifications.inbox (event_id, kind, registration_id) VALUES ($1, $2, $3)"
    " ON CONFLICT (event_id) DO NOTHING RETURNING 1"};
inline constexpr SqlStatement kUpsertParticipant = {
    "upsert_participant",
    "INSERT INTO notifications.participants (registration_id, event_id, status, email,"
    " given_name, family_name, language, time_zone, erased) VALUES ($1, $2, $3, $4, $5, $6, $7,"
    " $8, $9) ON CONFLICT (registration_id) DO UPDATE SET status = EXCLUDED.status,"
    " email = EXCLUDED.email, given_name = EXCLUDED.given_name,"
    " family_name = EXCLUDED.family_name, language = EXCLUDED.language,"
    " time_zone = EXCLUDED.time_zone, erased = EXCLUDED.erased, update_time = now()"};
// After an erasure, nothing still waiting may go out, and nothing kept may name the person.
inline constexpr SqlStatement kForgetMessages = {
    "forget_messages",
    "UPDATE notifications.messages SET state = CASE WHEN state = 1 THEN 4 ELSE state END,"
    " recipient = '', subject = '', body = '', icalendar = '', attachment = NULL"
    " WHERE registration_id = $1"};
inline constexpr SqlStatement kInsertMessage = {
    "insert_message",
    "INSERT INTO notifications.messages (id, dedupe_key, registration_id, event_id, kind,"
    " language, recipient, subject, body, icalendar, attachment, attachment_name,"
    " attachment_type) VALUES ($1, $2, NULLIF($3, '')::uuid, $4, $5, $6, $7, $8, $9, $10,"
    " CASE WHEN $12 = '' THEN NULL ELSE $11::bytea END, $12, $13)"
    " ON CONFLICT (dedupe_key) DO NOTHING"};
// Due messages no other sender holds, oldest first; held for $2 seconds.
inline constexpr SqlStatement kClaim = {
    "claim",
    "UPDATE notifications.messages SET claimed_until = now() + $2 * interval '1 second'"
    " WHERE id IN (SELECT id FROM notifications.messages WHERE state = 1"
    " AND next_attempt_time <= now() AND (claimed_until IS NULL OR claimed_until < now())"
    " ORDER BY next_attempt_time LIMIT $1 FOR UPDATE SKIP LOCKED)"
    " RETURNING id::text, recipient, subject, body, icalendar, kind, attempts, attachment,"
    " attachment_name, attachment_type"};
inline constexpr SqlStatement kMarkSent = {
    "mark_sent",
    "UPDATE notifications.messages SET state = 2, attempts = attempts + 1, sent_time = now(),"
    " claimed_until = NULL, last_error = '' WHERE id = $1 AND state = 1 RETURNING attempts"};
// $3: seconds until the retry; $4: give up (dead) now.
inline constexpr SqlStatement kMarkFailed = {
    "mark_failed",
    "UPDATE notifications.messages SET attempts = attempts + 1, last_error = $2,"
    " claimed_until = NULL, next_attempt_time = now() + $3 * interval '1 millisecond',"
    " state = CASE WHEN $4 THEN 3 ELSE 1 END WHERE id = $1 AND state = 1 RETURNING attempts"};
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
inline constexpr SqlStatement kConfirmedOfEvent = {
    "confirmed_of_event",
    "SELECT registration_id::text, event_id::text, status, email, given_name, family_name,"
    " language, time_zone, erased FROM notifications.participants WHERE event_id = $1"
    " AND status = 1 AND NOT erased ORDER BY registration_id"};

#undef ECD_MICROS
#undef ECD_MESSAGE_COLUMNS

}  // namespace ecd::notifications::sql
