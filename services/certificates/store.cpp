#include "services/certificates/store.hpp"

#include "common/pg.hpp"
#include "services/certificates/sql.hpp"

namespace ecd::certificates {
namespace {

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
    Exec(tx, sql::kInsert, c.id, c.registration_id, c.event_id, c.serial, c.verification_code,
         c.payload, c.signature, c.key_id, c.document_language,
         pqxx::binarystring(c.pdf.data(), c.pdf.size()), c.pdf_sha256, c.holder_name, c.name_salt);
    auto rows = Exec(tx, sql::kByRegistration, c.registration_id);
    if (!rows.empty()) out = FromRow(rows[0]);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  if (!out) return Status::Internal("certificate vanished");
  return *out;
}

StatusOr<std::optional<StoredCertificate>> Store::Find(const std::string& by,
                                                       const std::string& value, bool with_pdf) {
  const SqlStatement* statement = &sql::kById;
  if (by == "id" && with_pdf) statement = &sql::kByIdWithPdf;
  if (by == "registration") statement = &sql::kByRegistration;
  if (by == "serial") statement = &sql::kBySerial;
  if (by == "code") statement = &sql::kByCode;
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
    for (const auto& r : Exec(tx, sql::kList, event_id, after_micros, after_id, limit)) {
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
    Exec(tx, sql::kRevoke, id, reason);
    auto rows = Exec(tx, sql::kById, id);
    if (!rows.empty()) out = FromRow(rows[0]);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

StatusOr<std::string> Store::ErasureResumeToken() {
  std::string token;
  Status st = pool_.Read([&](pqxx::transaction_base& tx) -> Status {
    auto rows = Exec(tx, sql::kResumeToken);
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
      for (const auto& r : Exec(tx, sql::kToErase, reg)) {
        Exec(tx, sql::kEraseOne, r[0].as<std::string>(), redact(r[1].as<std::string>()));
        ++erased;
      }
    }
    Exec(tx, sql::kSaveResumeToken, resume_token);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return erased;
}

StatusOr<std::vector<Store::Mail>> Store::ClaimMails(int limit, int64_t lease_ms) {
  std::vector<Mail> out;
  Status st = pool_.Transact([&](pqxx::work& tx) -> Status {
    out.clear();
    for (const auto& r : Exec(tx, sql::kCourierClaim, limit, lease_ms)) {
      out.push_back(Mail{r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(),
                         r[3].as<std::string>(), pqxx::binarystring(r[4]).str()});
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Status Store::ReleaseMail(const std::string& id) {
  return pool_.Transact([&](pqxx::work& tx) -> Status {
    Exec(tx, sql::kCourierRelease, id);
    return Status::Ok();
  });
}

Status Store::MarkNotified(const std::string& id) {
  return pool_.Transact([&](pqxx::work& tx) -> Status {
    Exec(tx, sql::kCourierNotified, id);
    return Status::Ok();
  });
}

}  // namespace ecd::certificates
