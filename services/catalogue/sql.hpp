#pragma once
// Every SQL statement of the catalogue, kept together. Times travel as microseconds since the
// epoch (exact both ways); optional times as '' for NULL.
#include <string_view>

namespace ecd::catalogue::sql {

#define ECD_MICROS(col) "(extract(epoch from " col ") * 1000000)::bigint"
#define ECD_TS(param) "('epoch'::timestamptz + " param "::bigint * interval '1 microsecond')"
#define ECD_OPT_TS(param) \
  "('epoch'::timestamptz + NULLIF(" param ", '')::bigint * interval '1 microsecond')"

inline constexpr std::string_view kSeriesColumns =
    "id::text, title, description, organisers, funding_notice, topics, " ECD_MICROS("create_time");

inline constexpr std::string_view kInsertSeries =
    "INSERT INTO catalogue.series (id, title, description, organisers, funding_notice, topics,"
    " request_id, request_hash) VALUES ($1, $2, $3, $4::text[], $5, $6::text[], NULLIF($7, ''),"
    " NULLIF($8, '')) ON CONFLICT (id) DO NOTHING";

inline constexpr std::string_view kSeriesByRequestId =
    "SELECT id::text, coalesce(request_hash, '') FROM catalogue.series WHERE request_id = $1";

// Keyset paging on (create_time, id).
inline constexpr std::string_view kListSeries =
    "WHERE ($1 = '' OR (create_time, id) > (" ECD_OPT_TS("$1") ", NULLIF($2, '')::uuid))"
    " ORDER BY create_time, id LIMIT $3";

inline constexpr std::string_view kEventColumns =
    "id::text, coalesce(series_id::text, ''), title, description, region, language_code, "
    ECD_MICROS("start_time") ", " ECD_MICROS("end_time") ", duration_minutes, platform, join_url,"
    " topics, invited_countries, participants_per_country, "
    "coalesce(" ECD_MICROS("registration_open_time") "::text, ''), "
    "coalesce(" ECD_MICROS("registration_close_time") "::text, ''), approval_mode,"
    " certificate_threshold_percent, info_kit_lead_hours, recording_state, recording_url, status,"
    " revision, " ECD_MICROS("create_time") ", " ECD_MICROS("update_time");

// $1 id .. $22 status, $23 request_id, $24 request_hash.
inline constexpr std::string_view kInsertEvent =
    "INSERT INTO catalogue.events (id, series_id, title, description, region, language_code,"
    " start_time, end_time, duration_minutes, platform, join_url, topics, invited_countries,"
    " participants_per_country, registration_open_time, registration_close_time, approval_mode,"
    " certificate_threshold_percent, info_kit_lead_hours, recording_state, recording_url, status,"
    " request_id, request_hash) VALUES ($1, NULLIF($2, '')::uuid, $3, $4, $5, $6, " ECD_TS("$7")
    ", " ECD_TS("$8") ", $9, $10, $11, $12::text[], $13::text[], $14, " ECD_OPT_TS("$15") ", "
    ECD_OPT_TS("$16") ", $17, $18, $19, $20, $21, $22, NULLIF($23, ''), NULLIF($24, ''))"
    " ON CONFLICT (id) DO NOTHING";

inline constexpr std::string_view kUpdateEvent =
    "UPDATE catalogue.events SET series_id = NULLIF($2, '')::uuid, title = $3, description = $4,"
    " region = $5, language_code = $6, start_time = " ECD_TS("$7") ", end_time = " ECD_TS("$8")
    ", duration_minutes = $9, platform = $10, join_url = $11, topics = $12::text[],"
    " invited_countries = $13::text[], participants_per_country = $14,"
    " registration_open_time = " ECD_OPT_TS("$15") ", registration_close_time = "
    ECD_OPT_TS("$16") ", approval_mode = $17, certificate_threshold_percent = $18,"
    " info_kit_lead_hours = $19, recording_state = $20, recording_url = $21, status = $22,"
    " revision = revision + 1, update_time = now() WHERE id = $1";

inline constexpr std::string_view kEventByRequestId =
    "SELECT id::text, coalesce(request_hash, '') FROM catalogue.events WHERE request_id = $1";

// $1 cursor micros ('' = first page), $2 cursor id, $3 series, $4 region, $5 language,
// $6 status, $7 from micros, $8 to micros, $9 include drafts, $10 limit.
inline constexpr std::string_view kListEventsWhere =
    " WHERE ($1 = '' OR (start_time, id) > (" ECD_OPT_TS("$1") ", NULLIF($2, '')::uuid))"
    " AND ($3 = '' OR series_id = NULLIF($3, '')::uuid) AND ($4 = 0 OR region = $4)"
    " AND ($5 = '' OR language_code = $5) AND ($6 = 0 OR status = $6)"
    " AND ($7 = '' OR start_time >= " ECD_OPT_TS("$7") ")"
    " AND ($8 = '' OR start_time < " ECD_OPT_TS("$8") ")"
    " AND ($9 OR status <> 1) ORDER BY start_time, id LIMIT $10";

inline constexpr std::string_view kAgendaForEvents =
    "SELECT event_id::text, title, speaker, presentation_minutes, discussion_minutes"
    " FROM catalogue.agenda_segments WHERE event_id = ANY($1::uuid[]) ORDER BY event_id, position";
inline constexpr std::string_view kDeleteAgenda =
    "DELETE FROM catalogue.agenda_segments WHERE event_id = $1";
inline constexpr std::string_view kInsertSegment =
    "INSERT INTO catalogue.agenda_segments (event_id, position, title, speaker,"
    " presentation_minutes, discussion_minutes) VALUES ($1, $2, $3, $4, $5, $6)";

inline constexpr std::string_view kMaterialColumns =
    "id::text, event_id::text, kind, title, filename, content_type, size_bytes, sha256,"
    " external_uri, " ECD_MICROS("create_time");
inline constexpr std::string_view kInsertMaterial =
    "INSERT INTO catalogue.materials (id, event_id, kind, title, filename, content_type,"
    " size_bytes, sha256, external_uri, content) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
    " CASE WHEN $9 = '' THEN $10::bytea END)";
inline constexpr std::string_view kDeleteMaterial =
    "DELETE FROM catalogue.materials WHERE event_id = $1 AND id = $2";

#undef ECD_MICROS
#undef ECD_TS
#undef ECD_OPT_TS

}  // namespace ecd::catalogue::sql
