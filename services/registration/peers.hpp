#pragma once
// What a report needs from the other services, behind a small interface so that the logic can be
// tested with a fake: the certificates of an event and its messages, counted.
#include <map>
#include <memory>
#include <string>

#include "common/status.hpp"

namespace ecd::registration {

struct CertificateCounts {
  int issued = 0;
  int revoked = 0;
};

class ReportPeers {
 public:
  virtual ~ReportPeers() = default;
  // UNAVAILABLE when the service cannot be asked (or is not configured).
  virtual StatusOr<CertificateCounts> Certificates(const std::string& event_id) = 0;
  // MessageState name -> count.
  virtual StatusOr<std::map<std::string, int>> Messages(const std::string& event_id) = 0;
};

// Over gRPC with the `service` token; an empty address means not configured.
std::unique_ptr<ReportPeers> GrpcReportPeers(const std::string& certificates_address,
                                             const std::string& notifications_address,
                                             const std::string& token);

}  // namespace ecd::registration
