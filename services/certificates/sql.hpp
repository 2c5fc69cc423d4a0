#pragma once
// The certificates service's SQL, all of it: named statements prepared once per connection.
#include "common/pg.hpp"

namespace ecd::certificates::sql {

#define ECD_CERTIFICATE_COLUMNS \
  "id::text, registration_id::text, event_id::text, serial, verification_code, payload," \
  " signature, key_id, document_language, pdf_sha256, length(pdf), " ECD_MICROS(         \
      "issue_time") ", coalesce(" ECD_MICROS("revoke_time") ", 0), revoke_reason, payload_sha256,"  \
                    " erased, holder_name, name_salt"

inline constexpr SqlStatement kInsert = {
    "insert_certificate",
    "INSERT INTO certificates.certificates (id, registration_id, event_id, serial,"
    " verification_code, payload, signature, key_id, document_language, pdf, pdf_sha256,"
    " payload_sha256, holder_name, name_salt) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
    " $11, encode(sha256(convert_to($6, 'UTF8')), 'hex'), $12, $13)"
    " ON CONFLICT (registration_id) DO NOTHING"};
inline constexpr SqlStatement kById = {"certificate_by_id",
                                       "SELECT " ECD_CERTIFICATE_COLUMNS
                                       ", NULL FROM certificates.certificates WHERE id = $1"};
inline constexpr SqlStatement kByIdWithPdf = {"certificate_pdf",
                                              "SELECT " ECD_CERTIFICATE_COLUMNS
                                              ", pdf FROM certificates.certificates WHERE id = $1"};
inline constexpr SqlStatement kByRegistration = {
    "certificate_by_registration",
    "SELECT " ECD_CERTIFICATE_COLUMNS
    ", NULL FROM certificates.certificates WHERE registration_id = $1"};
inline constexpr SqlStatement kBySerial = {
    "certificate_by_serial",
    "SELECT " ECD_CERTIFICATE_COLUMNS ", NULL FROM certificates.certificates WHERE serial = $1"};
inline constexpr SqlStatement kByCode = {
    "certificate_by_code", "SELECT " ECD_CERTIFICATE_COLUMNS
                           ", NULL FROM certificates.certificates WHERE verification_code = $1"};
inline constexpr SqlStatement kList = {
    "list_certificates",
    "SELECT " ECD_CERTIFICATE_COLUMNS
    ", NULL FROM certificates.certificates"
    " WHERE ($1 = '' OR event_id = NULLIF($1, '')::uuid) AND ($2 = '' OR (issue_time, id) >"
    " ('epoch'::timestamptz + NULLIF($2, '')::bigint * interval '1 microsecond',"
    " NULLIF($3, '')::uuid)) ORDER BY issue_time, id LIMIT $4"};
inline constexpr SqlStatement kResumeToken = {
    "erasure_resume_token", "SELECT resume_token FROM certificates.erasure_feed WHERE id = 1"};
inline constexpr SqlStatement kSaveResumeToken = {
    "save_erasure_resume_token",
    "UPDATE certificates.erasure_feed SET resume_token = $1 WHERE id = 1"};
inline constexpr SqlStatement kToErase = {
    "certificates_to_erase",
    "SELECT id::text, payload FROM certificates.certificates WHERE registration_id = $1"
    " AND NOT erased FOR UPDATE"};
inline constexpr SqlStatement kEraseOne = {
    "erase_certificate",
    "UPDATE certificates.certificates SET payload = $2, pdf = ''::bytea, erased = true,"
    " holder_name = '', name_salt = '' WHERE id = $1"};
inline constexpr SqlStatement kRevoke = {
    "revoke_certificate",
    "UPDATE certificates.certificates SET revoke_time = coalesce(revoke_time, now()),"
    " revoke_reason = CASE WHEN revoke_time IS NULL THEN $2 ELSE revoke_reason END"
    " WHERE id = $1"};

// The courier hands each new certificate's PDF to the notifications service: it claims a few
// rows for a while (another replica skips them), commits, calls, and records the hand-over in a
// transaction of its own. A claim left by a courier that died lapses after the lease.
inline constexpr SqlStatement kCourierClaim = {
    "courier_claim",
    "UPDATE certificates.certificates SET courier_claimed_until = now() + $2 * interval"
    " '1 millisecond' WHERE id IN (SELECT id FROM certificates.certificates WHERE notified_time"
    " IS NULL AND revoke_time IS NULL AND (courier_claimed_until IS NULL OR"
    " courier_claimed_until < now()) ORDER BY issue_time LIMIT $1 FOR UPDATE SKIP LOCKED)"
    " RETURNING id::text, registration_id::text, serial, verification_code, pdf"};
inline constexpr SqlStatement kCourierRelease = {
    "courier_release",
    "UPDATE certificates.certificates SET courier_claimed_until = NULL WHERE id = $1"};
inline constexpr SqlStatement kCourierNotified = {
    "courier_notified",
    "UPDATE certificates.certificates SET notified_time = now(), courier_claimed_until = NULL"
    " WHERE id = $1"};

}  // namespace ecd::certificates::sql

#undef ECD_CERTIFICATE_COLUMNS
