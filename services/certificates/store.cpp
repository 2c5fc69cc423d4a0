#include "services/certificates/store.hpp"

#include "common/pg.hpp"

namespace ecd::certificates {
namespace {

#define ECD_COLUMNS \
  "id::text, registration_id::text, event_id::text, serial, verification_code, payload," \
  " signature, key_id, document_language, pdf_sha256, length(pdf), " ECD_MICROS(         \
      "issue_time") ", coalesce(" ECD_MICROS("revoke_time") ", 0), revoke_reason, payload_sha256,"  \
                    " erased, holder_name, name_salt"

constexpr SqlStatement kInsert = {
    "insert_certificate",
    "INSERT INTO certificates.certificates (id, registration_id, event_id, serial,"
    " verification_code, payload, signature, key_id, document_language, pdf, pdf_sha256,"
    " payload_sha256, holder_name, name_salt) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
    " $11, encode(sha256(convert_to($6, 'UTF8')), 'hex'), $12, $13)"
    " ON CONFLICT (registration_id) DO NOTHING"};
constexpr SqlStatement kById = {"certificate_by_id",
                                "SELECT " ECD_COLUMNS
                                ", NULL FROM certificates.certificates WHERE id = $1"};
constexpr SqlStatement kByIdWithPdf = {
    "certificate_pdf", "SELECT " ECD_COLUMNS ", pdf FROM certificates.certificates WHERE id = $1"};
constexpr SqlStatement kByRegistration = {
    "certificate_by_registration",
    "SELECT " ECD_COLUMNS ", NULL FROM certificates.certificates WHERE registration_id = $1"};
constexpr SqlStatement kBySerial = {"certificate_by_serial",
                                    "SELECT " ECD_COLUMNS
                                    ", NULL FROM certificates.certificates WHERE serial = $1"};
constexpr SqlStatement kByCode = {
    "certificate_by_code",
    "SELECT " ECD_COLUMNS ", NULL FROM certificates.certificates WHERE verification_code = $1"};
constexpr SqlStatement kList = {
    "list_certificates",
    "SELECT " ECD_COLUMNS
    ", NULL FROM certificates.certificates"
    " WHERE ($1 = '' OR event_id = NULLIF($1, '')::uuid) AND ($2 = '' OR (issue_time, id) >"
    " ('epoch'::timestamptz + NULLIF($2, '')::bigint * interval '1 microsecond',"
    " NULLIF($3, '')::uuid)) ORDER BY issue_time, id LIMIT $4"};
constexpr SqlStatement kResumeToken = {
    "erasure_resume_token", "SELECT resume_token FROM certificates.erasure_feed WHERE id = 1"};
constexpr SqlStatement kSaveResumeToken = {
    "save_erasure_resume_token",
    "UPDATE certificates.erasure_feed SET resume_token = $1 WHERE id = 1"};
constexpr SqlStatement kToErase = {
    "certificates_to_erase",
    "SELECT id::text, payload FROM certificates.certificates WHERE registration_id = $1"
    " AND NOT erased FOR UPDATE"};
constexpr SqlStatement kEraseOne = {
    "erase_certificate",
    "UPDATE certificates.certificates SET payload = $2, pdf = ''::bytea, erased = true,"
    " holder_name = '', name_salt = '' WHERE id = $1"};
constexpr SqlStatement kRevoke = {
    "revoke_certificate",
    "UPDATE certificates.certificates SET revoke_time = coalesce(revoke_time, now()),"
    " revoke_reason = CASE WHEN revoke_time IS NULL THEN $2 ELSE revoke_reason END"
    " WHERE id = $1"};

#undef ECD_MICROS
#undef ECD_COLUMNS

StoredCertificate FromRow(const pqxx::row& r) {
  StoredCertificate c;
  c.id = r[0].as<std::string>();
  c.registration_id = r[1].as<std::string>();
  c.event_id = r[2].as<std::string>();
  c.serial = r[3].as<std::string>();
  c.verification_code = r[4].as<std::string>();
  c.payload = r[5].as<std::string>();
  c.signature = r[6].as<std::string>();
  c.key_id = r[7].as<std::string>();
  c.document_language = r[8].as<std::string>();
  c.pdf_sha256 = r[9].as<std::string>();
  c.pdf_size = r[10].as<int64_t>();
  c.issue_micros = r[11].as<int64_t>();
  c.revoke_micros = r[12].as<int64_t>();
  c.revoke_reason = r[13].as<std::string>();
  c.payload_sha256 = r[14].as<std::string>();
  c.erased = r[15].as<bool>();
  c.holder_name = r[16].as<std::string>();
  c.name_salt = r[17].as<std::string>();
  if (!r[18].is_null()) c.pdf = pqxx::binarystring(r[18]).str();
  return c;
}

}  // namespace

Store::Store(PgPool& pool) : pool_(pool) {}

StatusOr<StoredCertificate> Store::InsertOrGet(const StoredCertificate& c) {
  std::optional<StoredCertificate> out;
  Status st = pool_.Transact([&](pqxx::work& tx) -> Status {
    Exec(tx, kInsert, c.id, c.registration_id, c.event_id, c.serial, c.verification_code, c.payload,
         c.signature, c.key_id, c.document_language, pqxx::binarystring(c.pdf.data(), c.pdf.size()),
         c.pdf_sha256, c.holder_name, c.name_salt);
    auto rows = Exec(tx, kByRegistration, c.registration_id);
    if (!rows.empty()) out = FromRow(rows[0]);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  if (!out) return Status::Internal("certificate vanished");
  return *out;
}

StatusOr<std::optional<StoredCertificate>> Store::Find(const std::string& by,
                                                       const std::string& value, bool with_pdf) {
  const SqlStatement* statement = &kById;
  if (by == "id" && with_pdf) statement = &kByIdWithPdf;
  if (by == "registration") statement = &kByRegistration;
  if (by == "serial") statement = &kBySerial;
  if (by == "code") statement = &kByCode;
  std::optional<StoredCertificate> out;
  Status st = pool_.Read([&](pqxx::transaction_base& tx) -> Status {
    auto rows = Exec(tx, *statement, value);
    if (!rows.empty()) out = FromRow(rows[0]);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

StatusOr<std::vector<StoredCertificate>> Store::List(const std::string& event_id,
                                                     const std::string& after_micros,
                                                     const std::string& after_id, int limit) {
  std::vector<StoredCertificate> out;
  Status st = pool_.Read([&](pqxx::transaction_base& tx) -> Status {
    for (const auto& r : Exec(tx, kList, event_id, after_micros, after_id, limit)) {
      out.push_back(FromRow(r));
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

StatusOr<std::optional<StoredCertificate>> Store::Revoke(const std::string& id,
                                                         const std::string& reason) {
  std::optional<StoredCertificate> out;
  Status st = pool_.Transact([&](pqxx::work& tx) -> Status {
    Exec(tx, kRevoke, id, reason);
    auto rows = Exec(tx, kById, id);
    if (!rows.empty()) out = FromRow(rows[0]);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

StatusOr<std::string> Store::ErasureResumeToken() {
  std::string token;
  Status st = pool_.Read([&](pqxx::transaction_base& tx) -> Status {
    auto rows = Exec(tx, kResumeToken);
    if (!rows.empty()) token = rows[0][0].as<std::string>();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return token;
}

StatusOr<int> Store::Erase(const std::vector<std::string>& registration_ids,
                           const std::function<std::string(const std::string&)>& redact,
                           const std::string& resume_token) {
  int erased = 0;
  Status st = pool_.Transact([&](pqxx::work& tx) -> Status {
    erased = 0;
    for (const auto& reg : registration_ids) {
      for (const auto& r : Exec(tx, kToErase, reg)) {
        Exec(tx, kEraseOne, r[0].as<std::string>(), redact(r[1].as<std::string>()));
        ++erased;
      }
    }
    Exec(tx, kSaveResumeToken, resume_token);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return erased;
}

}  // namespace ecd::certificates
