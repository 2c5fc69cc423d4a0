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
};

// What a message needs besides the participant and the event.
struct ComposeExtras {
  int waitlist_position = 0;
  std::string text;  // a rejection's reason, an announcement's text
  std::string certificate_serial;
  std::string certificate_verification_code;
  std::vector<Attachment> files;  // a certificate's PDF
  const KitPlan* kit = nullptr;   // info_kit and info_kit_update
};

// Kinds whose message carries the iCalendar invitation: those that give or change a place, those
// that withdraw it (a CANCEL), and the 24-hour reminder (a second chance to add it).
bool CarriesInvitation(const std::string& kind);
// Kinds whose invitation is an iCalendar CANCEL.
bool CancelsInvitation(const std::string& kind);

StatusOr<NewMessage> BuildMessage(const Templates& templates, const NotifierOptions& options,
                                  const std::string& kind, const Participant& participant,
                                  const catalogue::v1::Event& event, const std::string& dedupe_key,
                                  const ComposeExtras& extras);

// The mail of a stored message.
OutgoingMail ToMail(const std::string& message_id, const std::string& kind,
                    const std::string& recipient, const std::string& subject,
                    const std::string& body, const std::string& icalendar,
                    std::vector<Attachment> files);

}  // namespace ecd::notifications
