#pragma once
// The certified facts the certificates tests start from (the third seeded webinar).
#include <string>

#include "services/certificates/payload.hpp"
#include "services/certificates/signing.hpp"

namespace ecd::certificates {

inline CertifiedFacts SampleFacts(const std::string& language) {
  CertifiedFacts f;
  f.serial = "ECD-2020-0709-4F2K-9QXM";
  f.verification_code = "7KQ2-M9XD-44TB";
  f.participant_name = "Zoë Ñúñez-Çelik";
  f.event_title = "Webinar with the countries of Africa (English)";
  f.series_title = "Cybercrime and criminal justice in cyberspace";
  f.event_start = "2020-07-09T08:00:00Z";
  f.event_end = "2020-07-09T09:45:00Z";
  f.duration_minutes = 100;
  f.language = language;
  f.issuer = "Council of Europe, with EU Cyber Direct";
  f.issue_date = "2020-07-10";
  f.key_id = "0123456789abcdef";
  return f;
}

}  // namespace ecd::certificates
