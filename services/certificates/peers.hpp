#pragma once
// What the certificates service asks the registration service (role service): the interface the
// issuer depends on, and its gRPC implementation.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status.hpp"
#include "ecd/registration/v1/registration.pb.h"

namespace ecd::certificates {

class RegistrationReader {
 public:
  virtual ~RegistrationReader() = default;
  // `participant_key`: when given, the registration service checks it (PERMISSION_DENIED
  // INVALID_PARTICIPANT_KEY when it does not open the registration).
  virtual StatusOr<registration::v1::Registration> Get(const std::string& registration_id,
                                                       const std::string& participant_key = "") = 0;
  // The erasure feed from `token` on: the registration ids and where to resume.
  virtual StatusOr<std::pair<std::vector<std::string>, std::string>> Erasures(
      const std::string& token) = 0;
};

class RegistrationClient : public RegistrationReader {
 public:
  RegistrationClient(const std::string& address, std::string token);
  ~RegistrationClient() override;
  StatusOr<registration::v1::Registration> Get(const std::string& registration_id,
                                               const std::string& participant_key = "") override;
  StatusOr<std::pair<std::vector<std::string>, std::string>> Erasures(
      const std::string& token) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string token_;
};

}  // namespace ecd::certificates
