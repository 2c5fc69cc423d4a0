#pragma once
// What a certificate signs: its facts as canonical JSON, and the commitment to the holder's name.
#include <string>

#include "common/status.hpp"

namespace ecd::certificates {

// The certified facts, in a canonical form: UTF-8 JSON with keys in a fixed order, no spaces,
// every string escaped the same way, so that the same facts always give the same bytes.
//
// Version 2 (every certificate issued now) holds no name: `name_commitment` is
// base64url(SHA-256(salt || NFC name)) with a 16-byte random salt that travels with the holder
// (PDF, QR code, the API answer to the holder) and never in the payload, so that erasing the
// name and salt leaves every signature valid. Version 1 (certificates issued before) held the name
// in clear and keeps verifying as it was signed.
struct CertifiedFacts {
  int version = 2;
  std::string serial;             // human-readable, like "ECD-2020-0709-4F2K-9QXM"
  std::string verification_code;  // what the QR code carries
  std::string participant_name;   // version 1 only
  std::string name_commitment;    // version 2 only
  std::string event_title;
  std::string series_title;
  std::string event_start;  // RFC 3339 UTC, like "2020-07-09T08:00:00Z"
  std::string event_end;
  int duration_minutes = 0;
  std::string language;    // the event's language, "fr"
  std::string issuer;      // "Council of Europe, with EU Cyber Direct"
  std::string issue_date;  // "2020-07-10"
  std::string key_id;
};

// The commitment to a name: base64url(SHA-256(salt || name)), `salt` as raw bytes. The caller
// gives the name NFC-normalised.
std::string NameCommitment(const std::string& salt, const std::string& nfc_name);
std::string CanonicalPayload(const CertifiedFacts& facts);
// Parses a canonical payload back; INVALID_ARGUMENT if it is not one.
StatusOr<CertifiedFacts> ParsePayload(const std::string& payload);

}  // namespace ecd::certificates
