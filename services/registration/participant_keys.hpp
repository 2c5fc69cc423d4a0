#pragma once
// The participant key: a capability for one registration, an HMAC of its id (and of how many
// times it was handed over), so that nothing secret is stored, a retried Register gets the same
// key, and a hand-over retires the previous holder's key. Version 0 is the former cancellation
// token, which keeps working.
#include <string>

namespace ecd::registration {

class ParticipantKeys {
 public:
  explicit ParticipantKeys(std::string secret) : secret_(std::move(secret)) {}
  std::string Mint(const std::string& registration_id, int version = 0) const;
  bool Check(const std::string& registration_id, int version, const std::string& key) const;

 private:
  std::string secret_;
};

}  // namespace ecd::registration
