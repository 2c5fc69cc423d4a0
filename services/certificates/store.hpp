#pragma once
// The certificates service's storage.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/status.hpp"

namespace ecd {
class PgPool;
}

namespace ecd::certificates {

struct StoredCertificate {
  std::string id;
  std::string registration_id;
  std::string event_id;
  std::string serial;
  std::string verification_code;
  std::string payload;
  std::string signature;  // base64url
  std::string key_id;
  std::string document_language;
  std::string pdf_sha256;
  int64_t pdf_size = 0;
  int64_t issue_micros = 0;
  int64_t revoke_micros = 0;  // 0 while valid
  std::string revoke_reason;
  std::string payload_sha256;
  bool erased = false;      // the holder's personal data are gone
  std::string holder_name;  // as printed (version 2); '' once erased
  std::string name_salt;    // base64url (version 2); '' once erased
  std::string pdf;          // only when asked for
};

class Store {
 public:
  explicit Store(PgPool& pool);
  // Inserts unless the registration already has one; returns the registration's certificate
  // either way (so concurrent requests all get the same one).
  StatusOr<StoredCertificate> InsertOrGet(const StoredCertificate& c);
  // `by`: "id", "registration", "serial" or "code".
  StatusOr<std::optional<StoredCertificate>> Find(const std::string& by, const std::string& value,
                                                  bool with_pdf = false);
  StatusOr<std::vector<StoredCertificate>> List(const std::string& event_id,
                                                const std::string& after_micros,
                                                const std::string& after_id, int limit);
  // Revokes (the first reason and time stay if it was revoked already).
  StatusOr<std::optional<StoredCertificate>> Revoke(const std::string& id,
                                                    const std::string& reason);
  // Where the erasure feed was last read.
  StatusOr<std::string> ErasureResumeToken();
  // Forgets the personal data of these registrations' certificates: the printed name, the salt
  // and the PDF go; `redact(payload)` gives the payload to keep (a version-1 payload without its
  // name; a version-2 payload unchanged, it names nobody). Saves `resume_token` in the same
  // transaction.
  StatusOr<int> Erase(const std::vector<std::string>& registration_ids,
                      const std::function<std::string(const std::string&)>& redact,
                      const std::string& resume_token);

  // The courier's work: up to `limit` certificates not yet handed to the notifications service,
  // claimed for `lease_ms` (committed at once: no transaction stays open while it calls).
  struct Mail {
    std::string id, registration_id, serial, verification_code, pdf;
  };
  StatusOr<std::vector<Mail>> ClaimMails(int limit, int64_t lease_ms);
  Status MarkNotified(const std::string& id);
  // Gives a claim back (the call failed): the next round tries again.
  Status ReleaseMail(const std::string& id);

 private:
  PgPool& pool_;
};

}  // namespace ecd::certificates
