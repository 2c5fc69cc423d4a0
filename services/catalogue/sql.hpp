#pragma once
// Every SQL statement of the catalogue, kept together. Times travel as microseconds since the
// epoch (exact both ways); optional times as '' for NULL.
#include "common/pg.hpp"
#include "ecd/catalogue/v1/catalogue.pb.h"

// EventStatus values the SQL compares with, by name (the assert keeps them the proto's).
#define ECD_SQL_DRAFT "1"
static_assert(ecd::catalogue::v1::EVENT_STATUS_DRAFT == 1);

namespace ecd::catalogue::sql {

using ::ecd::SqlStatement;

#define ECD_TS(param) "('epoch'::timestamptz + " param "::bigint * interval '1 microsecond')"
#define ECD_OPT_TS(param) \
  "('epoch'::timestamptz + NULLIF(" param ", '')::bigint * interval '1 microsecond')"

#define ECD_SERIES_COLUMNS \
  "id::text, title, description, organisers, funding_notice, topics, " ECD_MICROS("create_time")

inline constexpr SqlStatement kInsertSeries = {
    "insert_series",
    "INSERT INTO catalogue.series (id, title, description, organisers, funding_notice, topics,"
    " request_id, request_hash) VALUES ($1, $2, $3, $4::text[], $5, $6::text[], NULLIF($7, ''),"
    " NULLIF($8, '')) ON CONFLICT (id) DO NOTHING"};

inline constexpr SqlStatement kSeriesByRequestId = {
    "series_by_request_id",
    "SELECT id::text, coalesce(request_hash, '') FROM catalogue.series WHERE request_id = $1"};

// Keyset paging on (create_time, id).
inline constexpr SqlStatement kListSeries = {"list_series",
    "SELECT " ECD_SERIES_COLUMNS " FROM catalogue.series WHERE ($1 = '' OR (create_time, id) > (" ECD_OPT_TS("$1") ", NULLIF($2, '')::uuid))"
    " ORDER BY create_time, id LIMIT $3"};

#define ECD_EVENT_COLUMNS \
  "id::text, coalesce(series_id::text, ''), title, description, region, " \
  "language_code, " \
  ECD_MICROS("start_time") ", " ECD_MICROS("end_time") ", duration_minutes, platform, join_url," \
  " topics, invited_countries, participants_per_country, " \
  "coalesce(" ECD_MICROS("registration_open_time") "::text, ''), " \
  "coalesce(" ECD_MICROS("registration_close_time") "::text, ''), approval_mode," \
  " certificate_threshold_percent, info_kit_lead_hours, recording_state, recording_url, status," \
  " revision, " ECD_MICROS("create_time") ", " ECD_MICROS("update_time") ", " \
  "ARRAY(SELECT title FROM catalogue.agenda_segments a WHERE a.event_id = events.id" \
  " ORDER BY position), " \
  "ARRAY(SELECT speaker FROM catalogue.agenda_segments a WHERE a.event_id = events.id" \
  " ORDER BY position), " \
  "ARRAY(SELECT presentation_minutes::text FROM catalogue.agenda_segments a" \
  " WHERE a.event_id = events.id ORDER BY position), " \
  "ARRAY(SELECT discussion_minutes::text FROM catalogue.agenda_segments a" \
  " WHERE a.event_id = events.id ORDER BY position), email_verification"

// $1 id .. $22 status, $23 email_verification, $24 request_id, $25 request_hash.
inline constexpr SqlStatement kInsertEvent = {"insert_event",
    "INSERT INTO catalogue.events (id, series_id, title, description, region, language_code,"
    " start_time, end_time, duration_minutes, platform, join_url, topics, invited_countries,"
    " participants_per_country, registration_open_time, registration_close_time, approval_mode,"
    " certificate_threshold_percent, info_kit_lead_hours, recording_state, recording_url, status,"
    " email_verification, request_id, request_hash) VALUES ($1, NULLIF($2, '')::uuid, $3, $4, $5,"
    " $6, " ECD_TS("$7") ", " ECD_TS("$8") ", $9, $10, $11, $12::text[], $13::text[], $14, "
    ECD_OPT_TS("$15") ", " ECD_OPT_TS("$16") ", $17, $18, $19, $20, $21, $22, $23,"
    " NULLIF($24, ''), NULLIF($25, ''))"
    " ON CONFLICT (id) DO NOTHING"};

inline constexpr SqlStatement kUpdateEvent = {"update_event",
    "UPDATE catalogue.events SET series_id = NULLIF($2, '')::uuid, title = $3, description = $4,"
    " region = $5, language_code = $6, start_time = " ECD_TS("$7") ", end_time = " ECD_TS("$8")
    ", duration_minutes = $9, platform = $10, join_url = $11, topics = $12::text[],"
    " invited_countries = $13::text[], participants_per_country = $14,"
    " registration_open_time = " ECD_OPT_TS("$15") ", registration_close_time = "
    ECD_OPT_TS("$16") ", approval_mode = $17, certificate_threshold_percent = $18,"
    " info_kit_lead_hours = $19, recording_state = $20, recording_url = $21, status = $22,"
    " email_verification = $23, revision = revision + 1, update_time = now() WHERE id = $1"};

inline constexpr SqlStatement kEventByRequestId = {
    "event_by_request_id",
    "SELECT id::text, coalesce(request_hash, '') FROM catalogue.events WHERE request_id = $1"};

// $1 cursor micros ('' = first page), $2 cursor id, $3 series, $4 region, $5 language,
// $6 status, $7 from micros, $8 to micros, $9 include drafts, $10 limit.
inline constexpr SqlStatement kListEvents = {"list_events",
    "SELECT " ECD_EVENT_COLUMNS " FROM catalogue.events WHERE ($1 = '' OR (start_time, id) > (" ECD_OPT_TS("$1") ", NULLIF($2, '')::uuid))"
    " AND ($3 = '' OR series_id = NULLIF($3, '')::uuid) AND ($4 = 0 OR region = $4)"
    " AND ($5 = '' OR language_code = $5) AND ($6 = 0 OR status = $6)"
    " AND ($7 = '' OR start_time >= " ECD_OPT_TS("$7") ")"
    " AND ($8 = '' OR start_time < " ECD_OPT_TS("$8") ")"
    " AND ($9 OR status <> " ECD_SQL_DRAFT ") AND ($11 = '' OR position(lower($11) in lower(title)) > 0"
    " OR position(lower($11) in lower(description)) > 0) ORDER BY start_time, id LIMIT $10"};
inline constexpr SqlStatement kDeleteDraft = {
    "delete_draft", "DELETE FROM catalogue.events WHERE id = $1 AND status = " ECD_SQL_DRAFT};

inline constexpr SqlStatement kDeleteAgenda = {
    "delete_agenda", "DELETE FROM catalogue.agenda_segments WHERE event_id = $1"};
inline constexpr SqlStatement kInsertSegment = {
    "insert_segment",
    "INSERT INTO catalogue.agenda_segments (event_id, position, title, speaker,"
    " presentation_minutes, discussion_minutes) VALUES ($1, $2, $3, $4, $5, $6)"};

#define ECD_MATERIAL_COLUMNS                                                           \
  "id::text, event_id::text, kind, title, filename, content_type, size_bytes, sha256," \
  " external_uri, " ECD_MICROS("create_time")
inline constexpr SqlStatement kInsertMaterial = {
    "insert_material",
    "INSERT INTO catalogue.materials (id, event_id, kind, title, filename, content_type,"
    " size_bytes, sha256, external_uri, content) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
    " CASE WHEN $9 = '' THEN $10::bytea END)"};
inline constexpr SqlStatement kDeleteMaterial = {
    "delete_material", "DELETE FROM catalogue.materials WHERE event_id = $1 AND id = $2"};

inline constexpr SqlStatement kGetSeries = {
    "get_series", "SELECT " ECD_SERIES_COLUMNS " FROM catalogue.series WHERE id = $1"};
inline constexpr SqlStatement kSeriesExists = {"series_exists",
                                               "SELECT 1 FROM catalogue.series WHERE id = $1"};
inline constexpr SqlStatement kGetEvent = {
    "get_event", "SELECT " ECD_EVENT_COLUMNS " FROM catalogue.events WHERE id = $1"};
inline constexpr SqlStatement kGetEventForUpdate = {
    "get_event_for_update",
    "SELECT " ECD_EVENT_COLUMNS " FROM catalogue.events WHERE id = $1 FOR UPDATE"};
inline constexpr SqlStatement kEventExists = {"event_exists",
                                              "SELECT 1 FROM catalogue.events WHERE id = $1"};
inline constexpr SqlStatement kGetMaterial = {
    "get_material",
    "SELECT " ECD_MATERIAL_COLUMNS " FROM catalogue.materials WHERE event_id = $1 AND id = $2"};
inline constexpr SqlStatement kGetMaterialContent = {
    "get_material_content", "SELECT " ECD_MATERIAL_COLUMNS
                            ", content FROM catalogue.materials WHERE event_id = $1 AND id = $2"};
inline constexpr SqlStatement kGetMaterialById = {
    "get_material_by_id", "SELECT " ECD_MATERIAL_COLUMNS " FROM catalogue.materials WHERE id = $1"};
inline constexpr SqlStatement kListMaterials = {
    "list_materials", "SELECT " ECD_MATERIAL_COLUMNS
                      " FROM catalogue.materials WHERE event_id = $1 ORDER BY create_time, id"};

// Every material's metadata, for the in-memory copy (cache.hpp).
inline constexpr SqlStatement kAllMaterials = {
    "all_materials",
    "SELECT " ECD_MATERIAL_COLUMNS " FROM catalogue.materials ORDER BY event_id, create_time, id"};

#undef ECD_SERIES_COLUMNS
#undef ECD_EVENT_COLUMNS
#undef ECD_MATERIAL_COLUMNS
#undef ECD_TS
#undef ECD_OPT_TS

}  // namespace ecd::catalogue::sql
