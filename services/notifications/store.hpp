#pragma once
// The notifications service's storage: the inbox (each relayed event accepted once), the
// participants, the messages and their attempts.
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/paging.hpp"
#include "common/status.hpp"
#include "ecd/notifications/v1/notifications.pb.h"
#include "services/notifications/mime.hpp"

namespace pqxx {
class transaction_base;
}
namespace ecd {
class PgPool;
}

namespace ecd::notifications {

namespace v1 = ::ecd::notifications::v1;

// ecd_messages_total{kind,state}: a message of `kind` reached `state` (queued, sent, failed: an
// attempt failed and it waits for the next, dead: given up).
void CountMessage(const std::string& kind, const char* state);

struct Participant {
  std::string registration_id;
  std::string event_id;
  int status = 0;
  std::string email;
  std::string given_name;
  std::string family_name;
  std::string language;
  std::string time_zone;
  bool erased = false;
  // Set when someone the registration's history names (a former holder, a colleague offered it)
  // was erased: every message to this address, and the hand-over messages about the
  // registration, are blanked. The participant's copy stays its holder's.
  std::string forget_address;
};

// A material of the information kit as a participant was given it.
struct KitItem {
  std::string material;  // "events/{id}/materials/{id}"
  std::string version;   // SHA-256 of uploaded bytes, or the external URI
  bool attached = false;
};

struct NewMessage {
  std::string dedupe_key;
  std::string registration_id;  // may be empty
  std::string event_id;
  std::string kind;
  std::string language;
  std::string recipient;
  std::string recipient_name;  // for the To header
  std::string subject;
  std::string body;
  std::string icalendar;
  std::vector<Attachment> attachments;  // files besides the invitation
  std::vector<KitItem> kit_items;       // what of the kit this message gives its recipient
};

struct ClaimedMessage {
  std::string id;
  std::string recipient;
  std::string subject;
  std::string body;
  std::string icalendar;
  std::string kind;
  int attempts = 0;  // before this one
  std::string recipient_name;
  std::string traceparent;  // of what caused it ("" when unknown)
  bool has_attachments = false;
};

// A participant of an event and where they stand with its information kit.
struct KitRecipient {
  std::string registration_id;
  int kit_state = 0;           // the state of their kit message (0: none)
  int64_t kit_micros = 0;      // when it was queued
  std::vector<KitItem> items;  // what they were given, by the kit and its updates
};

class Store {
 public:
  explicit Store(PgPool& pool);

  // Accepts one relayed event: false when its id was seen before (then nothing is written).
  // Otherwise records the participant as the event describes them (unless `keep_copy` is false:
  // a registration as it will be, or as it was) and queues `messages`. An erased participant
  // (`participant.erased`) is forgotten: the stored copy is blanked, and every message about the
  // registration or sent to the address known for it is blanked (recipient, name, subject, body,
  // invitation, errors), its files dropped, and cancelled if it was still waiting. Nothing is
  // queued for a registration erased before.
  StatusOr<bool> Accept(const std::string& event_id, const std::string& kind,
                        const Participant& participant, bool keep_copy,
                        const std::vector<NewMessage>& messages);
  // Many relayed events in one transaction (DeliverEvents): what Accept does for each, in the
  // order they are given, each seeing what the ones before it wrote. Database errors throw (the
  // whole transaction then rolls back, and AcceptMany answers with their status).
  class Inbox {
   public:
    explicit Inbox(pqxx::transaction_base& tx);
    // Which of `event_ids` were accepted before (by a committed transaction, or this one).
    std::set<std::string> Seen(const std::vector<std::string>& event_ids);
    // The stored participant as this transaction sees it (GetParticipant).
    std::optional<Participant> GetParticipant(const std::string& registration_id);
    // As Store::Accept.
    bool Accept(const std::string& event_id, const std::string& kind,
                const Participant& participant, bool keep_copy,
                const std::vector<NewMessage>& messages);
    // A run of consecutive events that erase nobody, keep the participant's copy and carry at
    // most one message without files or kit items, with distinct ids: what Accept does for each
    // in turn, in three statements. Returns, for each, whether it was accepted now.
    struct Plain {
      const std::string* event_id;
      const std::string* kind;
      const Participant* participant;
      const NewMessage* message;  // null for none
      std::string traceparent;    // the message's
    };
    static bool IsPlain(const Participant& participant, bool keep_copy,
                        const std::vector<NewMessage>& messages);
    std::vector<bool> AcceptPlain(const std::vector<Plain>& run);

   private:
    pqxx::transaction_base& tx_;
    std::set<std::string> stored_;  // digests whose bytes this transaction made sure of
  };
  // Runs fn in one transaction, committed when it returns OK (then the metrics of what it queued
  // count); retried from the start on a serialization failure or a deadlock.
  Status AcceptMany(const std::function<Status(Inbox&)>& fn);
  // Queues messages (announcements, resends); ones whose dedupe key exists are skipped, with
  // their files and kit items.
  StatusOr<int> Queue(const std::vector<NewMessage>& messages);

  // Claims up to `limit` due messages for `owner` (a sender) until `lease_ms` from now.
  StatusOr<std::vector<ClaimedMessage>> Claim(int limit, int64_t lease_ms,
                                              const std::string& owner);
  // Whether `owner` still holds message `id` (then its claim runs `lease_ms` from now).
  StatusOr<bool> Renew(const std::string& id, const std::string& owner, int64_t lease_ms);
  // Extends the claims that `owner` holds among `ids`.
  // The ids that were still `owner`'s, whose claims now run `lease_ms` from now.
  StatusOr<std::vector<std::string>> Extend(const std::vector<std::string>& ids,
                                            const std::string& owner, int64_t lease_ms);
  // Gives back the claims that `owner` holds among `ids` (due again at once).
  Status Release(const std::vector<std::string>& ids, const std::string& owner);
  // The files a message carries, in order.
  StatusOr<std::vector<Attachment>> Attachments(const std::string& message_id);

  // Messages waiting to be sent and the age in seconds of the oldest (metrics).
  StatusOr<std::pair<int64_t, double>> QueueStats();
  // Records the messages `ids` as sent, each with its attempt, in one transaction (those still
  // pending: a message cancelled by an erasure meanwhile stays cancelled).
  Status MarkSentMany(const std::vector<std::string>& ids);
  // `retry_in_ms` until the next attempt; `dead` gives up now. Nothing happens unless `owner`
  // still holds the message.
  Status MarkFailed(const std::string& id, const std::string& owner, const std::string& error,
                    int64_t retry_in_ms, bool dead);

  StatusOr<v1::Message> Get(const std::string& id);
  StatusOr<std::optional<v1::Message>> FindByDedupeKey(const std::string& key);
  StatusOr<std::vector<v1::Message>> List(const std::string& event_id,
                                          const std::string& registration_id, int state,
                                          const std::optional<PageCursor>& after, int limit);
  StatusOr<std::optional<Participant>> GetParticipant(const std::string& registration_id);
  // Whether a relayed change, a participant or a message named the registration.
  StatusOr<bool> RegistrationKnown(const std::string& registration_id);
  // Whether the event has participants or messages here.
  StatusOr<bool> EventKnown(const std::string& event_id);
  StatusOr<std::vector<Participant>> ConfirmedOf(const std::string& event_id);
  // Each confirmed participant of the event, with the state of their latest kit message and the
  // kit items they were given.
  StatusOr<std::vector<KitRecipient>> KitRecipients(const std::string& event_id);

 private:
  // The files of each message (for the API: names, types, sizes, digests; not the bytes).
  Status AddAttachmentInfo(std::vector<v1::Message>& messages);

  PgPool& pool_;
};

}  // namespace ecd::notifications
