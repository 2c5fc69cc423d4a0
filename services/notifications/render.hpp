#pragma once
// Messages to participants, rendered from the templates in templates/<language>/ (en, fr, es),
// embedded in the binary at build time. Times are shown in UTC and in the participant's time zone.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/status.hpp"

namespace ecd::notifications {

// A document of the information kit as a message names it.
struct MaterialLine {
  std::string title;
  std::string filename;  // of an attached file
  std::string link;      // of a linked one; empty when there is no way to link it
};

// Everything a template may use. Unused fields stay empty.
struct MessageContext {
  std::string language;  // "en", "fr" or "es"
  std::string given_name;
  std::string family_name;
  std::string event_title;
  int64_t start_micros = 0;  // UTC, microseconds since the epoch
  int64_t end_micros = 0;
  std::string time_zone;  // IANA, like "Africa/Lagos"
  std::string platform;   // "Zoom"
  std::string join_url;
  int waitlist_position = 0;
  std::string registration;                      // "registrations/{id}"
  std::string reason;                            // a rejection's reason
  std::vector<MaterialLine> attached_materials;  // files this message carries
  std::vector<MaterialLine> linked_materials;    // the others: links
  std::string recording_url;
  std::string announcement;  // free text of SendAnnouncement
  std::string certificate_serial;
  std::string certificate_verification_code;
  std::string certificate_file;  // the attached PDF's file name, when the message carries it
  // The registration's status (ecd.registration.v1.RegistrationStatus), told in words where a
  // message says where the participant stands (with waitlist_position).
  int status = 0;
  std::string code;                // a 6-digit verification code
  std::string verify_url;          // the link that verifies with the code
  std::string manage_url;          // the participant's link to their registration
  std::string participant_key;     // shown when there is no manage_url to carry it
  int64_t hold_expire_micros = 0;  // until when a hold (or a hand-over) waits for verification
  std::string previous_holder;     // who hands their place over (handover_verify)
  bool invitation = false;         // the message carries a calendar invitation (or its CANCEL)
};

struct RenderedMessage {
  std::string subject;
  std::string text;
};

class Templates {
 public:
  // The kinds of message, each with a template per language: confirmed, pending_approval,
  // approved, rejected, waitlisted, promoted, cancelled, info_kit, info_kit_update,
  // reminder_24h, reminder_1h, event_changed, event_cancelled, recording_published,
  // certificate_issued, announcement, verify_email, already_registered, participant_key,
  // expired, handover_verify, handover_requested, handed_over, handed_over_to_you,
  // handover_expired (the order of the MessageKind enum).
  static const std::vector<std::string>& Kinds();
  static const std::vector<std::string>& Languages();

  // The embedded templates, or those under `dir` when it is not empty (ECD_TEMPLATES_DIR).
  // FAILED_PRECONDITION naming what is missing if a kind lacks a language or a part.
  static StatusOr<Templates> Load(const std::string& dir = "");

  // INVALID_ARGUMENT for an unknown kind or language.
  StatusOr<RenderedMessage> Render(const std::string& kind, const MessageContext& context) const;

 private:
  // key "<language>/<kind>.subject" or "<language>/<kind>.txt" -> template text
  std::map<std::string, std::string> sources_;
  // Which set of sources this is (copies share it): each thread keeps the templates it compiled
  // from a set, so that a message is rendered without parsing its template again.
  uint64_t serial_ = 0;
};

// The slot as a person reads it, in their language: for example
// "Tuesday 7 July 2020, 08:00-09:45 UTC (09:00-10:45 Africa/Lagos)". An unknown time zone shows
// UTC only.
std::string FormatSlot(int64_t start_micros, int64_t end_micros, const std::string& time_zone,
                       const std::string& language);

// An instant as a person reads it: "Tuesday 7 July 2020, 08:30 UTC (09:30 Africa/Lagos)", with
// the local date too when it differs from the UTC one. An unknown time zone shows UTC only.
std::string FormatInstant(int64_t micros, const std::string& time_zone,
                          const std::string& language);

// Where a registration stands, in words that follow "Your registration is" ("confirmed", "on
// your country's waiting list, at position 2", ...); "" for an unknown status.
std::string StatusWords(int status, int waitlist_position, const std::string& language);

}  // namespace ecd::notifications
