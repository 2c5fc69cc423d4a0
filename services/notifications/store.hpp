#pragma once
// The notifications service's storage: the inbox (each relayed event accepted once), the
// participants, the messages and their attempts.
#include <optional>
#include <string>
#include <vector>

#include "common/status.hpp"
#include "ecd/notifications/v1/notifications.pb.h"

namespace ecd {
class PgPool;
}

namespace ecd::notifications {

namespace v1 = ::ecd::notifications::v1;

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
};

struct NewMessage {
  std::string dedupe_key;
  std::string registration_id;  // may be empty
  std::string event_id;
  std::string kind;
  std::string language;
  std::string recipient;
  std::string subject;
  std::string body;
  std::string icalendar;
  std::string attachment;  // bytes; sent when attachment_name is set
  std::string attachment_name;
  std::string attachment_type;
};

struct ClaimedMessage {
  std::string id;
  std::string recipient;
  std::string subject;
  std::string body;
  std::string icalendar;
  std::string kind;
  int attempts = 0;  // before this one
  std::string attachment;
  std::string attachment_name;
  std::string attachment_type;
};

struct MessageCursor {
  int64_t micros = 0;
  std::string id;
};

class Store {
 public:
  explicit Store(PgPool& pool);

  // Accepts one relayed event: false when its id was seen before (then nothing is written).
  // Otherwise records the participant as the event describes them and queues `messages`; an
  // erased participant's queued messages are cancelled and blanked.
  StatusOr<bool> Accept(const std::string& event_id, const std::string& kind,
                        const Participant& participant, const std::vector<NewMessage>& messages);
  // Queues messages (announcements, resends); ones whose dedupe key exists are skipped.
  StatusOr<int> Queue(const std::vector<NewMessage>& messages);

  StatusOr<std::vector<ClaimedMessage>> Claim(int limit, int lease_seconds);
  Status MarkSent(const std::string& id);
  // `retry_in_ms` until the next attempt; `dead` gives up now.
  Status MarkFailed(const std::string& id, const std::string& error, int64_t retry_in_ms,
                    bool dead);

  StatusOr<v1::Message> Get(const std::string& id);
  StatusOr<std::optional<v1::Message>> FindByDedupeKey(const std::string& key);
  StatusOr<std::vector<v1::Message>> List(const std::string& event_id,
                                          const std::string& registration_id, int state,
                                          const std::optional<MessageCursor>& after, int limit);
  StatusOr<std::optional<Participant>> GetParticipant(const std::string& registration_id);
  StatusOr<std::vector<Participant>> ConfirmedOf(const std::string& event_id);

 private:
  PgPool& pool_;
};

}  // namespace ecd::notifications
