#include "services/notifications/compose.hpp"

#include <cctype>
#include <utility>

#include "common/text.hpp"
#include "common/time.hpp"
#include "services/notifications/ical.hpp"

namespace ecd::notifications {
namespace {

namespace cat = ::ecd::catalogue::v1;

constexpr int kConfirmed = 1;  // ecd.registration.v1.REGISTRATION_STATUS_CONFIRMED

std::string Fill(std::string url, const std::string& registration_id, const std::string& name,
                 const std::string& value) {
  const std::pair<std::string, std::string> replacements[] = {
      {"{registration}", PercentEncode(registration_id)}, {"{" + name + "}", PercentEncode(value)}};
  for (const auto& [from, to] : replacements) {
    for (size_t at = url.find(from); at != std::string::npos; at = url.find(from, at + to.size())) {
      url.replace(at, from.size(), to);
    }
  }
  return url;
}

}  // namespace

bool CarriesInvitation(const std::string& kind, int status) {
  if (kind == "handed_over" || kind == "handed_over_to_you") return status == kConfirmed;
  return kind == "confirmed" || kind == "approved" || kind == "promoted" ||
         kind == "event_changed" || kind == "reminder_24h" || kind == "cancelled" ||
         kind == "event_cancelled";
}

bool CancelsInvitation(const std::string& kind) {
  return kind == "cancelled" || kind == "event_cancelled" || kind == "handed_over";
}

bool CarriesCode(const std::string& kind) {
  return kind == "verify_email" || kind == "handover_verify";
}

std::string VerifyUrl(const std::string& url_template, const std::string& registration_id,
                      const std::string& code) {
  if (url_template.empty() || code.empty()) return "";
  return Fill(url_template, registration_id, "code", code);
}

std::string ManageUrl(const std::string& url_template, const std::string& registration_id,
                      const std::string& key) {
  if (url_template.empty() || key.empty()) return "";
  return Fill(url_template, registration_id, "key", key);
}

StatusOr<NewMessage> BuildMessage(const Templates& templates, const NotifierOptions& options,
                                  const std::string& kind, const Participant& p,
                                  const cat::Event& event, const std::string& dedupe_key,
                                  const ComposeExtras& x) {
  MessageContext ctx;
  ctx.language = p.language.empty() ? "en" : p.language;
  ctx.given_name = p.given_name;
  ctx.family_name = p.family_name;
  ctx.event_title = event.title();
  ctx.start_micros = Micros(event.start_time());
  ctx.end_micros = Micros(event.end_time());
  ctx.time_zone = p.time_zone;
  ctx.platform = event.platform();
  ctx.join_url = event.join_url();
  ctx.waitlist_position = x.waitlist_position;
  ctx.registration = "registrations/" + p.registration_id;
  if (kind == "rejected") ctx.reason = x.text;
  if (kind == "announcement") ctx.announcement = x.text;
  ctx.status = p.status;
  ctx.hold_expire_micros = x.hold_expire_micros;
  ctx.previous_holder = x.previous_holder;
  if (!x.secret.empty() && CarriesCode(kind)) {
    ctx.code = x.secret;
    ctx.verify_url = VerifyUrl(options.verify_url_template, p.registration_id, x.secret);
  } else if (!x.secret.empty()) {
    ctx.manage_url = ManageUrl(options.manage_url_template, p.registration_id, x.secret);
    if (ctx.manage_url.empty()) ctx.participant_key = x.secret;
  }
  const bool invitation = CarriesInvitation(kind, p.status);
  ctx.invitation = invitation;
  ctx.certificate_serial = x.certificate_serial;
  ctx.certificate_verification_code = x.certificate_verification_code;
  if (kind == "certificate_issued" && !x.files.empty()) ctx.certificate_file = x.files[0].filename;
  if (event.recording().state() == cat::RECORDING_STATE_PUBLISHED) {
    ctx.recording_url = event.recording().url();
  }
  const bool kit = kind == "info_kit" || kind == "info_kit_update";
  if (kit && x.kit != nullptr) {
    ctx.attached_materials = x.kit->attached;
    ctx.linked_materials = x.kit->linked;
  }
  ECD_ASSIGN_OR_RETURN(auto rendered, templates.Render(kind, ctx));
  NewMessage m;
  m.dedupe_key = dedupe_key;
  m.registration_id = p.registration_id;
  m.event_id = p.event_id;
  m.kind = kind;
  m.language = ctx.language;
  m.recipient = p.email;
  m.recipient_name = ctx.given_name;
  if (!ctx.family_name.empty()) {
    m.recipient_name += (m.recipient_name.empty() ? "" : " ") + ctx.family_name;
  }
  m.subject = rendered.subject;
  m.body = rendered.text;
  if (kit && x.kit != nullptr) {
    m.attachments = x.kit->files;
    m.kit_items = x.kit->items;
  }
  if (kind == "info_kit") m.kit_items.push_back(KitItem{kKitMarker, kKitMarker, false});
  if (kind == "certificate_issued") m.attachments = x.files;
  if (invitation) {
    Invitation inv;
    inv.uid = p.registration_id + "@events.ecd";  // stable per registration
    // The catalogue's revision grows at every change of the event; a cancellation outranks
    // the invitation it withdraws.
    inv.sequence = static_cast<int>(event.revision()) + (CancelsInvitation(kind) ? 1 : 0);
    inv.cancel = CancelsInvitation(kind);
    inv.organizer_name = options.organizer_name;
    inv.organizer_email = options.organizer_email;
    inv.attendee_name = m.recipient_name;
    inv.attendee_email = p.email;
    inv.start_micros = ctx.start_micros;
    inv.end_micros = ctx.end_micros;
    inv.stamp_micros = Micros(event.update_time());
    inv.summary = event.title();
    inv.description = rendered.text;
    inv.url = event.join_url();
    m.icalendar = BuildICalendar(inv);
  }
  return m;
}

OutgoingMail ToMail(const std::string& message_id, const std::string& kind,
                    const std::string& recipient, const std::string& recipient_name,
                    const std::string& subject, const std::string& body,
                    const std::string& icalendar, std::vector<Attachment> files) {
  OutgoingMail mail;
  mail.message_id = message_id + "@events.ecd";
  mail.to_address = recipient;
  mail.to_name = recipient_name;
  mail.subject = subject;
  mail.text = body;
  mail.icalendar = icalendar;
  mail.ical_cancel = CancelsInvitation(kind);
  mail.attachments = std::move(files);
  return mail;
}

}  // namespace ecd::notifications
