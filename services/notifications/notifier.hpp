#pragma once
// The notifications service's logic, free of gRPC: turns relayed registration changes into
// messages (rendered in the participant's language, with an iCalendar invitation where it fits),
// and answers the API. Sending is the Sender's job (sender.hpp).
#include <string>

#include "common/auth.hpp"
#include "common/catalogue_client.hpp"
#include "common/page_token.hpp"
#include "common/status.hpp"
#include "ecd/notifications/v1/notifications.pb.h"
#include "services/notifications/compose.hpp"
#include "services/notifications/kit.hpp"
#include "services/notifications/render.hpp"
#include "services/notifications/store.hpp"

namespace ecd::notifications {

RoleTable NotificationRoles();

class Notifier {
 public:
  Notifier(Store& store, CatalogueReader& catalogue, MaterialSource& materials,
           const Templates& templates, const PageTokens& page_tokens, NotifierOptions options)
      : store_(store),
        catalogue_(catalogue),
        materials_(materials),
        templates_(templates),
        page_tokens_(page_tokens),
        options_(std::move(options)) {}

  Status DeliverEvents(const CallContext& c, const v1::DeliverEventsRequest& req,
                       v1::DeliverEventsResponse* resp);
  Status ListMessages(const CallContext& c, const v1::ListMessagesRequest& req,
                      v1::ListMessagesResponse* resp);
  Status GetMessage(const CallContext& c, const v1::GetMessageRequest& req,
                    v1::GetMessageResponse* resp);
  Status ResendMessage(const CallContext& c, const v1::ResendMessageRequest& req,
                       v1::ResendMessageResponse* resp);
  Status PreviewMessage(const CallContext& c, const v1::PreviewMessageRequest& req,
                        v1::PreviewMessageResponse* resp);
  Status SendAnnouncement(const CallContext& c, const v1::SendAnnouncementRequest& req,
                          v1::SendAnnouncementResponse* resp);
  Status SendCertificate(const CallContext& c, const v1::SendCertificateRequest& req,
                         v1::SendCertificateResponse* resp);

  // The message of `kind` for `participant` about their event (asked of the catalogue). An
  // information kit without `extras.kit` is planned from the event's materials as they are.
  StatusOr<NewMessage> Compose(const std::string& kind, const Participant& participant,
                               const std::string& dedupe_key, const ComposeExtras& extras = {});
  // The same, with the event at hand (one look-up for many participants).
  StatusOr<NewMessage> Compose(const catalogue::v1::Event& event, const std::string& kind,
                               const Participant& participant, const std::string& dedupe_key,
                               const ComposeExtras& extras = {});

 private:
  Store& store_;
  CatalogueReader& catalogue_;
  MaterialSource& materials_;
  const Templates& templates_;
  const PageTokens& page_tokens_;
  NotifierOptions options_;
};

// Which message an outbox change asks for ("" for none): confirmed, pending_approval, approved,
// rejected, waitlisted, promoted (pending_approval when the promotion awaits approval),
// cancelled, and the participant's own: verify_email, already_registered, participant_key,
// expired, handover_verify, handover_requested, handed_over, handed_over_to_you,
// handover_expired. "registered", "updated", "attendance_recorded" and "erased" ask for none.
std::string MessageKindFor(const std::string& outbox_kind, int registration_status);

// Whether the notifications service's copy of the participant follows an outbox change: not for
// a registration as it will be (handover_verify: the seat is still the holder's until the
// colleague verifies) or as it was (handed_over: handed_over_to_you follows).
bool KeepsParticipantCopy(const std::string& outbox_kind);

// The MessageKind enum and the kinds' names ("confirmed", "reminder_24h"): "" for
// MESSAGE_KIND_UNSPECIFIED or an unknown value; UNSPECIFIED for an unknown name.
std::string KindName(v1::MessageKind kind);
v1::MessageKind KindValue(const std::string& name);

}  // namespace ecd::notifications
