#include "services/notifications/store.hpp"

#include <spdlog/spdlog.h>

#include <map>
#include <set>

#include "common/crypto.hpp"
#include "common/metrics.hpp"
#include "common/pg.hpp"
#include "common/time.hpp"
#include "common/trace.hpp"
#include "services/notifications/sql.hpp"

namespace ecd::notifications {

void CountMessage(const std::string& kind, const char* state) {
  Counter("ecd_messages_total",
          "Messages that reached a state (queued, sent, failed, dead), by kind.",
          {{"kind", kind}, {"state", state}})
      .Inc();
}

namespace {

v1::Message MessageFromRow(const pqxx::row& r) {
  v1::Message m;
  const std::string id = r[0].as<std::string>();
  m.set_name("messages/" + id);
  if (auto reg = r[1].as<std::string>(); !reg.empty()) m.set_registration("registrations/" + reg);
  m.set_event("events/" + r[2].as<std::string>());
  m.set_kind(r[3].as<std::string>());
  m.set_language(r[4].as<std::string>());
  m.set_recipient(r[5].as<std::string>());
  m.set_subject(r[6].as<std::string>());
  m.set_body(r[7].as<std::string>());
  m.set_icalendar(r[8].as<std::string>());
  m.set_state(static_cast<v1::MessageState>(r[9].as<int>()));
  m.set_attempts(r[10].as<int>());
  SetMicros(r[11].as<int64_t>(), m.mutable_next_attempt_time());
  m.set_last_error(r[12].as<std::string>());
  SetMicros(r[13].as<int64_t>(), m.mutable_create_time());
  if (int64_t sent = r[14].as<int64_t>(); sent != 0) SetMicros(sent, m.mutable_sent_time());
  m.set_message_id_header("<" + id + "@events.ecd>");
  return m;
}

Participant ParticipantFromRow(const pqxx::row& r) {
  Participant p;
  p.registration_id = r[0].as<std::string>();
  p.event_id = r[1].as<std::string>();
  p.status = r[2].as<int>();
  p.email = r[3].as<std::string>();
  p.given_name = r[4].as<std::string>();
  p.family_name = r[5].as<std::string>();
  p.language = r[6].as<std::string>();
  p.time_zone = r[7].as<std::string>();
  p.erased = r[8].as<bool>();
  return p;
}

std::string DigestOf(const Attachment& a) {
  if (!a.sha256.empty()) return a.sha256;
  return Sha256Hex(a.content ? std::string_view(*a.content) : std::string_view());
}

// Inserts a message with its files and kit items, unless its dedupe key exists. `stored` holds
// the digests whose bytes this transaction already made sure of (a kit to many participants
// sends its documents to the database once).
void Insert(pqxx::transaction_base& tx, const NewMessage& m, int* inserted,
            std::set<std::string>* stored) {
  const std::string id = NewUuid();
  auto r = Exec(tx, sql::kInsertMessage, id, m.dedupe_key, m.registration_id, m.event_id, m.kind,
                m.language, m.recipient, m.recipient_name, m.subject, m.body, m.icalendar,
                CurrentTraceparent());
  if (r.empty()) return;  // queued before
  ++*inserted;
  AfterCommit([kind = m.kind] { CountMessage(kind, "queued"); });
  int position = 0;
  for (const auto& a : m.attachments) {
    const std::string digest = DigestOf(a);
    if (stored->insert(digest).second && Exec(tx, sql::kHasBlob, digest).empty()) {
      const std::string_view bytes = a.content ? std::string_view(*a.content) : std::string_view();
      Exec(tx, sql::kInsertBlob, digest, pqxx::binarystring(bytes.data(), bytes.size()));
    }
    Exec(tx, sql::kInsertAttachment, id, position++, a.filename, a.content_type,
         static_cast<int64_t>(a.size()), digest);
  }
  for (const auto& item : m.kit_items) {
    Exec(tx, sql::kInsertKitItem, m.registration_id, m.event_id, item.material, item.version, id,
         item.attached);
  }
}

}  // namespace

Store::Store(PgPool& pool) : pool_(pool) {}

StatusOr<std::pair<int64_t, double>> Store::QueueStats() {
  std::pair<int64_t, double> out;
  Status st = pool_.Read([&](pqxx::transaction_base& tx) -> Status {
    auto row = Exec(tx, sql::kQueueStats).at(0);
    out = {row[0].as<int64_t>(), row[1].as<double>()};
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

namespace {

// Store::Accept in the caller's transaction; `stored` as for Insert.
bool AcceptIn(pqxx::transaction_base& tx, const std::string& event_id, const std::string& kind,
              const Participant& p, bool keep_copy, const std::vector<NewMessage>& messages,
              std::set<std::string>* stored) {
  if (Exec(tx, sql::kAccept, event_id, kind, p.registration_id).empty()) return false;
  if (p.erased || !p.forget_address.empty()) {
    std::vector<std::string> ids;
    if (p.erased) {
      std::string email;
      for (const auto& r : Exec(tx, sql::kParticipantEmail, p.registration_id)) {
        email = r[0].as<std::string>();
      }
      Exec(tx, sql::kEraseParticipant, p.registration_id, p.event_id, p.status, p.language);
      for (const auto& r : Exec(tx, sql::kMessagesOfPerson, p.registration_id, email)) {
        ids.push_back(r[0].as<std::string>());
      }
    } else {
      for (const auto& r :
           Exec(tx, sql::kMessagesOfFormerPerson, p.registration_id, p.forget_address)) {
        ids.push_back(r[0].as<std::string>());
      }
    }
    if (!ids.empty()) {
      const std::string array = ToPgArray(ids);
      Exec(tx, sql::kForgetMessages, array);
      Exec(tx, sql::kForgetAttempts, array);
      std::vector<std::string> digests;
      for (const auto& r : Exec(tx, sql::kForgetAttachments, array)) {
        digests.push_back(r[0].as<std::string>());
      }
      if (!digests.empty()) Exec(tx, sql::kDropUnusedBlobs, ToPgArray(digests));
    }
    if (p.erased) Exec(tx, sql::kForgetKitItems, p.registration_id);
    return true;  // nothing goes to an erased person
  }
  const bool erased_before =
      keep_copy ? Exec(tx, sql::kUpsertParticipant, p.registration_id, p.event_id, p.status,
                       p.email, p.given_name, p.family_name, p.language, p.time_zone)
                      .empty()
                : !Exec(tx, sql::kIsErased, p.registration_id).empty();
  if (erased_before) return true;
  int inserted = 0;
  for (const auto& m : messages) Insert(tx, m, &inserted, stored);
  return true;
}

}  // namespace

StatusOr<bool> Store::Accept(const std::string& event_id, const std::string& kind,
                             const Participant& p, bool keep_copy,
                             const std::vector<NewMessage>& messages) {
  bool fresh = false;
  Status st = pool_.Transact([&](pqxx::work& tx) -> Status {
    std::set<std::string> stored;
    fresh = AcceptIn(tx, event_id, kind, p, keep_copy, messages, &stored);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return fresh;
}

Store::Inbox::Inbox(pqxx::transaction_base& tx) : tx_(tx) {}

std::set<std::string> Store::Inbox::Seen(const std::vector<std::string>& event_ids) {
  std::set<std::string> out;
  if (event_ids.empty()) return out;
  for (const auto& r : Exec(tx_, sql::kInboxSeen, ToPgArray(event_ids))) {
    out.insert(r[0].as<std::string>());
  }
  return out;
}

std::optional<Participant> Store::Inbox::GetParticipant(const std::string& registration_id) {
  auto rows = Exec(tx_, sql::kGetParticipant, registration_id);
  if (rows.empty()) return std::nullopt;
  return ParticipantFromRow(rows[0]);
}

bool Store::Inbox::Accept(const std::string& event_id, const std::string& kind,
                          const Participant& participant, bool keep_copy,
                          const std::vector<NewMessage>& messages) {
  return AcceptIn(tx_, event_id, kind, participant, keep_copy, messages, &stored_);
}

bool Store::Inbox::IsPlain(const Participant& p, bool keep_copy,
                           const std::vector<NewMessage>& messages) {
  if (p.erased || !p.forget_address.empty() || !keep_copy || messages.size() > 1) return false;
  for (const auto& m : messages) {
    if (!m.attachments.empty() || !m.kit_items.empty() || m.registration_id.empty()) return false;
  }
  return true;
}

std::vector<bool> Store::Inbox::AcceptPlain(const std::vector<Plain>& run) {
  std::vector<bool> fresh(run.size(), false);
  if (run.empty()) return fresh;
  std::vector<std::string> ids, kinds, registrations;
  for (const auto& e : run) {
    ids.push_back(*e.event_id);
    kinds.push_back(*e.kind);
    registrations.push_back(e.participant->registration_id);
  }
  std::set<std::string> accepted;
  for (const auto& r :
       Exec(tx_, sql::kAcceptMany, ToPgArray(ids), ToPgArray(kinds), ToPgArray(registrations))) {
    accepted.insert(r[0].as<std::string>());
  }
  // Each registration's copy as its last event accepted now describes it (one after the other,
  // the earlier ones' would be overwritten; nothing in the run erases anyone, so whether the
  // copy was erased is the same for all of them).
  std::map<std::string, size_t> last;
  for (size_t i = 0; i < run.size(); ++i) {
    fresh[i] = accepted.count(*run[i].event_id) > 0;
    if (fresh[i]) last[run[i].participant->registration_id] = i;
  }
  if (last.empty()) return fresh;
  std::vector<std::string> reg, event, status, email, given, family, language, zone;
  for (const auto& [registration, i] : last) {
    const Participant& p = *run[i].participant;
    reg.push_back(p.registration_id);
    event.push_back(p.event_id);
    status.push_back(std::to_string(p.status));
    email.push_back(p.email);
    given.push_back(p.given_name);
    family.push_back(p.family_name);
    language.push_back(p.language);
    zone.push_back(p.time_zone);
  }
  std::set<std::string> kept;
  for (const auto& r : Exec(tx_, sql::kUpsertParticipants, ToPgArray(reg), ToPgArray(event),
                            ToPgArray(status), ToPgArray(email), ToPgArray(given),
                            ToPgArray(family), ToPgArray(language), ToPgArray(zone))) {
    kept.insert(r[0].as<std::string>());
  }
  // The messages of the events accepted now, unless their participant was erased before.
  std::vector<std::string> mid, key, mreg, mevent, kind, mlanguage, recipient, name, subject, body,
      ical, trace;
  for (size_t i = 0; i < run.size(); ++i) {
    const NewMessage* m = run[i].message;
    if (!fresh[i] || m == nullptr || !kept.count(run[i].participant->registration_id)) continue;
    mid.push_back(NewUuid());
    key.push_back(m->dedupe_key);
    mreg.push_back(m->registration_id);
    mevent.push_back(m->event_id);
    kind.push_back(m->kind);
    mlanguage.push_back(m->language);
    recipient.push_back(m->recipient);
    name.push_back(m->recipient_name);
    subject.push_back(m->subject);
    body.push_back(m->body);
    ical.push_back(m->icalendar);
    trace.push_back(run[i].traceparent);
  }
  if (mid.empty()) return fresh;
  for (const auto& r :
       Exec(tx_, sql::kInsertMessages, ToPgArray(mid), ToPgArray(key), ToPgArray(mreg),
            ToPgArray(mevent), ToPgArray(kind), ToPgArray(mlanguage), ToPgArray(recipient),
            ToPgArray(name), ToPgArray(subject), ToPgArray(body), ToPgArray(ical),
            ToPgArray(trace))) {
    AfterCommit([kind = r[0].as<std::string>()] { CountMessage(kind, "queued"); });
  }
  return fresh;
}

Status Store::AcceptMany(const std::function<Status(Inbox&)>& fn) {
  return pool_.Transact([&](pqxx::work& tx) -> Status {
    Inbox inbox(tx);
    return fn(inbox);
  });
}

StatusOr<int> Store::Queue(const std::vector<NewMessage>& messages) {
  int inserted = 0;
  Status st = pool_.Transact([&](pqxx::work& tx) -> Status {
    inserted = 0;
    std::set<std::string> stored;
    for (const auto& m : messages) Insert(tx, m, &inserted, &stored);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return inserted;
}

StatusOr<std::vector<ClaimedMessage>> Store::Claim(int limit, int64_t lease_ms,
                                                   const std::string& owner) {
  std::vector<ClaimedMessage> out;
  Status st = pool_.Transact([&](pqxx::work& tx) -> Status {
    out.clear();
    std::vector<std::string> stale;  // queue rows of messages no longer pending
    for (const auto& r : Exec(tx, sql::kClaim, limit, lease_ms, owner)) {
      if (r[1].as<int>() != v1::MESSAGE_STATE_PENDING) {
        stale.push_back(r[0].as<std::string>());
        continue;
      }
      out.push_back(ClaimedMessage{
          r[0].as<std::string>(), r[2].as<std::string>(), r[3].as<std::string>(),
          r[4].as<std::string>(), r[5].as<std::string>(), r[6].as<std::string>(), r[7].as<int>(),
          r[8].as<std::string>(), r[9].as<std::string>(), r[10].as<bool>()});
    }
    if (!stale.empty()) {
      Exec(tx, sql::kDropStaleQueueRows, ToPgArray(stale));
      spdlog::warn("dropped {} queue row(s) of messages no longer pending", stale.size());
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

StatusOr<bool> Store::Renew(const std::string& id, const std::string& owner, int64_t lease_ms) {
  bool held = false;
  // One statement, before every mail: it commits on its own, without the round trips of BEGIN
  // and COMMIT.
  Status st = pool_.Read([&](pqxx::transaction_base& tx) -> Status {
    held = !Exec(tx, sql::kRenewClaim, id, owner, lease_ms).empty();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return held;
}

StatusOr<std::vector<std::string>> Store::Extend(const std::vector<std::string>& ids,
                                                 const std::string& owner, int64_t lease_ms) {
  std::vector<std::string> extended;
  if (ids.empty()) return extended;
  Status st = pool_.Transact([&](pqxx::work& tx) -> Status {
    extended.clear();
    for (const auto& r : Exec(tx, sql::kExtendClaims, ToPgArray(ids), owner, lease_ms)) {
      extended.push_back(r[0].as<std::string>());
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return extended;
}

Status Store::Release(const std::vector<std::string>& ids, const std::string& owner) {
  if (ids.empty()) return Status::Ok();
  return pool_.Transact([&](pqxx::work& tx) -> Status {
    Exec(tx, sql::kReleaseClaims, ToPgArray(ids), owner);
    return Status::Ok();
  });
}

StatusOr<std::vector<Attachment>> Store::Attachments(const std::string& message_id) {
  std::vector<Attachment> out;
  Status st = pool_.Read([&](pqxx::transaction_base& tx) -> Status {
    out.clear();
    for (const auto& r : Exec(tx, sql::kAttachments, message_id)) {
      Attachment a;
      a.filename = r[0].as<std::string>();
      a.content_type = r[1].as<std::string>();
      a.sha256 = r[2].as<std::string>();
      a.content = std::make_shared<const std::string>(pqxx::binarystring(r[3]).str());
      out.push_back(std::move(a));
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Status Store::AddAttachmentInfo(std::vector<v1::Message>& messages) {
  if (messages.empty()) return Status::Ok();
  std::vector<std::string> ids;
  std::map<std::string, v1::Message*> by_id;
  for (auto& m : messages) {
    const std::string id = m.name().substr(m.name().rfind('/') + 1);
    ids.push_back(id);
    by_id[id] = &m;
  }
  return pool_.Read([&](pqxx::transaction_base& tx) -> Status {
    for (const auto& r : Exec(tx, sql::kAttachmentInfo, ToPgArray(ids))) {
      auto it = by_id.find(r[0].as<std::string>());
      if (it == by_id.end()) continue;
      auto* a = it->second->add_attachments();
      a->set_filename(r[1].as<std::string>());
      a->set_content_type(r[2].as<std::string>());
      a->set_size_bytes(r[3].as<int64_t>());
      a->set_sha256(r[4].as<std::string>());
    }
    return Status::Ok();
  });
}

Status Store::MarkSentMany(const std::vector<std::string>& ids) {
  if (ids.empty()) return Status::Ok();
  return pool_.Transact([&](pqxx::work& tx) -> Status {
    Exec(tx, sql::kMarkSentMany, ToPgArray(ids));
    return Status::Ok();
  });
}

Status Store::MarkFailed(const std::string& id, const std::string& owner, const std::string& error,
                         int64_t retry_in_ms, bool dead) {
  return pool_.Transact([&](pqxx::work& tx) -> Status {
    auto r = Exec(tx, sql::kMarkFailed, id, error.substr(0, 1000), retry_in_ms, dead, owner);
    if (!r.empty())
      Exec(tx, sql::kRecordAttempt, id, r[0][0].as<int>(), false, error.substr(0, 1000));
    return Status::Ok();
  });
}

StatusOr<v1::Message> Store::Get(const std::string& id) {
  std::optional<v1::Message> out;
  Status st = pool_.Read([&](pqxx::transaction_base& tx) -> Status {
    auto rows = Exec(tx, sql::kGetMessage, id);
    if (!rows.empty()) out = MessageFromRow(rows[0]);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  if (!out) return Status::NotFound("messages/" + id);
  std::vector<v1::Message> one{std::move(*out)};
  ECD_RETURN_IF_ERROR(AddAttachmentInfo(one));
  return std::move(one[0]);
}

StatusOr<std::optional<v1::Message>> Store::FindByDedupeKey(const std::string& key) {
  std::optional<v1::Message> out;
  Status st = pool_.Read([&](pqxx::transaction_base& tx) -> Status {
    auto rows = Exec(tx, sql::kMessageByDedupeKey, key);
    if (!rows.empty()) out = MessageFromRow(rows[0]);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  if (!out) return out;
  std::vector<v1::Message> one{std::move(*out)};
  ECD_RETURN_IF_ERROR(AddAttachmentInfo(one));
  return std::optional<v1::Message>(std::move(one[0]));
}

StatusOr<std::vector<v1::Message>> Store::List(const std::string& event_id,
                                               const std::string& registration_id, int state,
                                               const std::optional<PageCursor>& after, int limit) {
  std::vector<v1::Message> out;
  Status st = pool_.Read([&](pqxx::transaction_base& tx) -> Status {
    for (const auto& r : Exec(tx, sql::kListMessages, event_id, registration_id, state,
                              after ? std::to_string(after->micros) : std::string(),
                              after ? after->id : std::string(), limit)) {
      out.push_back(MessageFromRow(r));
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  ECD_RETURN_IF_ERROR(AddAttachmentInfo(out));
  return out;
}

StatusOr<std::optional<Participant>> Store::GetParticipant(const std::string& registration_id) {
  std::optional<Participant> out;
  Status st = pool_.Read([&](pqxx::transaction_base& tx) -> Status {
    auto rows = Exec(tx, sql::kGetParticipant, registration_id);
    if (!rows.empty()) out = ParticipantFromRow(rows[0]);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

StatusOr<bool> Store::RegistrationKnown(const std::string& registration_id) {
  bool known = false;
  Status st = pool_.Read([&](pqxx::transaction_base& tx) -> Status {
    known = Exec(tx, sql::kRegistrationKnown, registration_id).at(0)[0].as<bool>();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return known;
}

StatusOr<bool> Store::EventKnown(const std::string& event_id) {
  bool known = false;
  Status st = pool_.Read([&](pqxx::transaction_base& tx) -> Status {
    known = Exec(tx, sql::kEventKnown, event_id).at(0)[0].as<bool>();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return known;
}

StatusOr<std::vector<Participant>> Store::ConfirmedOf(const std::string& event_id) {
  std::vector<Participant> out;
  Status st = pool_.Read([&](pqxx::transaction_base& tx) -> Status {
    for (const auto& r : Exec(tx, sql::kConfirmedOfEvent, event_id)) {
      out.push_back(ParticipantFromRow(r));
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

StatusOr<std::vector<KitRecipient>> Store::KitRecipients(const std::string& event_id) {
  std::vector<KitRecipient> out;
  Status st = pool_.Read([&](pqxx::transaction_base& tx) -> Status {
    out.clear();
    std::map<std::string, size_t> index;
    for (const auto& r : Exec(tx, sql::kKitRecipients, event_id)) {
      index[r[0].as<std::string>()] = out.size();
      out.push_back(KitRecipient{r[0].as<std::string>(), r[1].as<int>(), r[2].as<int64_t>(), {}});
    }
    for (const auto& r : Exec(tx, sql::kKitItemsOfEvent, event_id)) {
      auto it = index.find(r[0].as<std::string>());
      if (it == index.end()) continue;
      out[it->second].items.push_back(
          KitItem{r[1].as<std::string>(), r[2].as<std::string>(), r[3].as<bool>()});
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

}  // namespace ecd::notifications
