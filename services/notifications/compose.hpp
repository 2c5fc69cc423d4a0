#pragma once
// A message as it will be sent, from facts already at hand (no network, no database): the text in
// the participant's language, the iCalendar invitation for the kinds that carry one, and the
// files (a certificate's PDF, an information kit's documents). The text states an attachment
// exactly when the message carries it: the same facts decide both.
#include <string>
#include <vector>

#include "common/status.hpp"
#include "ecd/catalogue/v1/catalogue.pb.h"
#include "services/notifications/kit.hpp"
#include "services/notifications/mailer.hpp"
#include "services/notifications/render.hpp"
#include "services/notifications/store.hpp"

namespace ecd::notifications {

struct NotifierOptions {
  std::string organizer_name = "EU Cyber Direct";
  std::string organizer_email = "events@eucyberdirect.eu";
  // ECD_VERIFY_URL_TEMPLATE: where a frontend verifies an address, with {registration} (the id)
  // and {code}; empty: the mail gives the code alone.
  std::string verify_url_template;
  // ECD_MANAGE_URL_TEMPLATE: where a frontend lets a participant manage their registration, with
  // {registration} (the id) and {key}; empty: the mail gives the key and the registration's name.
  std::string manage_url_template;
};

// What a message needs besides the participant and the event.
struct ComposeExtras {
  int waitlist_position = 0;
  std::string text;  // a rejection's reason, an announcement's text
  std::string certificate_serial;
  std::string certificate_verification_code;
  std::vector<Attachment> files;  // a certificate's PDF
  const KitPlan* kit = nullptr;   // info_kit and info_kit_update
  // What the relayed change carried besides the registration: the verification code
  // (verify_email, handover_verify) or the participant key (every other kind).
  std::string secret;
  int64_t hold_expire_micros = 0;  // the registration's hold_expire_time
  std::string previous_holder;     // handover_verify: who hands their place over
};

// Whether a message of `kind` about a registration of `status` carries the iCalendar invitation:
// those that give or change a place, those that withdraw it (a CANCEL), the 24-hour reminder (a
// second chance to add it); a hand-over's, when the seat is a confirmed one.
bool CarriesInvitation(const std::string& kind, int status);
// Kinds whose invitation is an iCalendar CANCEL.
bool CancelsInvitation(const std::string& kind);
// Kinds whose `secret` is a verification code (the others carry a participant key).
bool CarriesCode(const std::string& kind);

// The links of the URL templates, with their placeholders replaced ("" when the template is
// empty): {registration} by the registration's id, {code} or {key} by the secret (percent-encoded).
std::string VerifyUrl(const std::string& url_template, const std::string& registration_id,
                      const std::string& code);
std::string ManageUrl(const std::string& url_template, const std::string& registration_id,
                      const std::string& key);

StatusOr<NewMessage> BuildMessage(const Templates& templates, const NotifierOptions& options,
                                  const std::string& kind, const Participant& participant,
                                  const catalogue::v1::Event& event, const std::string& dedupe_key,
                                  const ComposeExtras& extras);

// The mail of a stored message.
OutgoingMail ToMail(const std::string& message_id, const std::string& kind,
                    const std::string& recipient, const std::string& recipient_name,
                    const std::string& subject, const std::string& body,
                    const std::string& icalendar, std::vector<Attachment> files);

}  // namespace ecd::notifications
