#include "services/notifications/notifier.hpp"

#include <spdlog/spdlog.h>

#include <cctype>
#include <chrono>
#include <map>
#include <optional>
#include <set>

#include "common/crypto.hpp"
#include "common/paging.hpp"
#include "common/resource_name.hpp"
#include "common/text.hpp"
#include "common/time.hpp"
#include "common/trace.hpp"
#include "services/notifications/ical.hpp"

namespace ecd::notifications {
namespace {

namespace cat = ::ecd::catalogue::v1;
namespace reg = ::ecd::registration::v1;
constexpr Role kAdmin = Role::kAdmin, kService = Role::kService;
constexpr size_t kMaxEventsPerCall = 500;

std::string FullName(const Participant& p) {
  if (p.given_name.empty() || p.family_name.empty()) return p.given_name + p.family_name;
  return p.given_name + " " + p.family_name;
}

void SetAttachmentInfo(const std::vector<Attachment>& files,
                       google::protobuf::RepeatedPtrField<v1::MessageAttachment>* out) {
  for (const auto& f : files) {
    auto* a = out->Add();
    a->set_filename(f.filename);
    a->set_content_type(f.content_type);
    a->set_size_bytes(static_cast<int64_t>(f.size()));
    a->set_sha256(f.sha256.empty() ? Sha256Hex(f.content ? *f.content : std::string()) : f.sha256);
  }
}

}  // namespace

RoleTable NotificationRoles() {
  return RoleTable{
      {"DeliverEvents", {kService, kAdmin}},   {"ListMessages", {kAdmin, kService}},
      {"GetMessage", {kAdmin, kService}},      {"ResendMessage", {kAdmin}},
      {"PreviewMessage", {kAdmin, kService}},  {"SendAnnouncement", {kAdmin}},
      {"SendCertificate", {kService, kAdmin}},
  };
}

std::string MessageKindFor(const std::string& outbox_kind, int status) {
  if (outbox_kind == "promoted") {
    return status == reg::REGISTRATION_STATUS_PENDING_APPROVAL ? "pending_approval" : "promoted";
  }
  for (const char* k :
       {"confirmed", "pending_approval", "approved", "rejected", "waitlisted", "cancelled",
        "verify_email", "already_registered", "participant_key", "expired", "handover_verify",
        "handover_requested", "handed_over", "handed_over_to_you", "handover_expired"}) {
    if (outbox_kind == k) return k;
  }
  return "";
}

bool KeepsParticipantCopy(const std::string& outbox_kind) {
  return outbox_kind != "handover_verify" && outbox_kind != "handed_over";
}

std::string KindName(v1::MessageKind kind) {
  if (kind == v1::MESSAGE_KIND_UNSPECIFIED || !v1::MessageKind_IsValid(kind)) return "";
  std::string name = v1::MessageKind_Name(kind).substr(std::string("MESSAGE_KIND_").size());
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

v1::MessageKind KindValue(const std::string& name) {
  std::string upper = "MESSAGE_KIND_";
  for (char c : name) {
    if (!std::islower(static_cast<unsigned char>(c)) &&
        !std::isdigit(static_cast<unsigned char>(c)) && c != '_') {
      return v1::MESSAGE_KIND_UNSPECIFIED;
    }
    upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  v1::MessageKind kind = v1::MESSAGE_KIND_UNSPECIFIED;
  if (name.empty() || !v1::MessageKind_Parse(upper, &kind)) return v1::MESSAGE_KIND_UNSPECIFIED;
  return kind;
}

StatusOr<NewMessage> Notifier::Compose(const std::string& kind, const Participant& p,
                                       const std::string& dedupe_key, const ComposeExtras& extras) {
  ECD_ASSIGN_OR_RETURN(auto event, catalogue_.GetEvent(p.event_id));
  return Compose(event, kind, p, dedupe_key, extras);
}

StatusOr<NewMessage> Notifier::Compose(const cat::Event& event, const std::string& kind,
                                       const Participant& p, const std::string& dedupe_key,
                                       const ComposeExtras& extras) {
  if ((kind == "info_kit" || kind == "info_kit_update") && extras.kit == nullptr) {
    ECD_ASSIGN_OR_RETURN(auto materials, materials_.List(p.event_id));
    ECD_RETURN_IF_ERROR(materials_.Fetch(materials));
    const KitPlan plan = PlanKit(materials, materials_.options());
    ComposeExtras with_kit = extras;
    with_kit.kit = &plan;
    return BuildMessage(templates_, options_, kind, p, event, dedupe_key, with_kit);
  }
  return BuildMessage(templates_, options_, kind, p, event, dedupe_key, extras);
}

Status Notifier::DeliverEvents(const CallContext&, const v1::DeliverEventsRequest& req,
                               v1::DeliverEventsResponse* resp) {
  if (req.events_size() > static_cast<int>(kMaxEventsPerCall)) {
    return Status::InvalidArgument("events", "at most 500 per call");
  }
  for (int i = 0; i < req.events_size(); ++i) {
    const auto& ev = req.events(i);
    const std::string field = "events[" + std::to_string(i) + "]";
    if (!IsUuid(ev.event_id())) return Status::InvalidArgument(field + ".event_id", "not a UUID");
    auto reg_id =
        ParseResourceName(ev.registration().name(), "registrations", field + ".registration.name");
    if (!reg_id.ok()) return reg_id.status();
    auto event_id =
        ParseResourceName(ev.registration().event(), "events", field + ".registration.event");
    if (!event_id.ok()) return event_id.status();
  }
  // What each event says, before the transaction.
  struct Change {
    TraceContext trace;
    Participant p;
    std::string kind;  // of the message it asks for ("" for none)
    bool keep_copy = true;
    ComposeExtras extras;
  };
  std::vector<Change> changes(req.events_size());
  std::vector<std::string> event_ids;
  for (int i = 0; i < req.events_size(); ++i) {
    const auto& ev = req.events(i);
    Change& c = changes[i];
    // The event continues the trace of the call that caused it (a bad one starts a new trace).
    std::optional<TraceContext> cause;
    if (ev.traceparent().size() <= 64) cause = ParseTraceparent(ev.traceparent());
    c.trace = ChildSpan(cause);
    const auto& r = ev.registration();
    Participant& p = c.p;
    p.registration_id = IdOf(r.name());
    p.event_id = IdOf(r.event());
    p.status = r.status();
    p.email = r.participant().email();
    p.given_name = r.participant().given_name();
    p.family_name = r.participant().family_name();
    p.language = r.participant().preferred_language();
    p.time_zone = r.participant().time_zone();
    p.erased = r.erased() || ev.kind() == "erased";
    c.kind = p.erased ? "" : MessageKindFor(ev.kind(), r.status());
    c.keep_copy = KeepsParticipantCopy(ev.kind());
    if (ev.kind() == "person_erased") {
      // Someone else than the holder, named in the registration's history, was erased: the
      // address comes as the secret.
      p.forget_address = ev.secret();
      c.kind.clear();
      c.keep_copy = false;
    } else if (!p.erased && p.email.empty()) {
      // An event scrubbed of a person after it was written: nobody to tell, nothing to keep.
      c.kind.clear();
      c.keep_copy = false;
    }
    c.extras.waitlist_position = r.waitlist_position();
    c.extras.secret = ev.secret();
    if (r.has_hold_expire_time()) c.extras.hold_expire_micros = Micros(r.hold_expire_time());
    if (c.kind == "rejected") c.extras.text = r.rejection_reason();
    event_ids.push_back(ev.event_id());
  }
  // The webinars the messages are about, asked of the catalogue (its cache) before the
  // transaction, so that no connection waits on it. Once it is unreachable, the others are not
  // asked: their events wait for the relay's next try like the one that needed it first.
  std::map<std::string, StatusOr<cat::Event>> webinars;
  Status unreachable;
  for (const auto& c : changes) {
    if (c.kind.empty() || c.p.email.empty() || webinars.count(c.p.event_id)) continue;
    if (!unreachable.ok()) {
      webinars.emplace(c.p.event_id, unreachable);
      continue;
    }
    ScopedTrace trace(c.trace);
    auto event = catalogue_.GetEvent(c.p.event_id);
    if (!event.ok() && (event.status().code() == Code::kUnavailable ||
                        event.status().code() == Code::kDeadlineExceeded)) {
      unreachable = event.status();
    }
    webinars.emplace(c.p.event_id, std::move(event));
  }

  // In order, in one transaction: a registration's changes arrive in the order they happened,
  // and each sees what the ones before it stored. An event that cannot be composed stops the
  // batch there: those before it are committed, and the relay retries from it later.
  struct Outcome {
    bool fresh = false;
    std::string what;
  };
  std::vector<Outcome> outcomes;
  Status stopped;
  Status st = store_.AcceptMany([&](Store::Inbox& inbox) -> Status {
    outcomes.assign(changes.size(), Outcome{});
    size_t reached = changes.size();
    stopped = Status::Ok();
    std::vector<std::vector<NewMessage>> messages(changes.size());
    // Consecutive plain events (Store::Inbox::IsPlain) are written together, before anything
    // that reads what they write or does more.
    std::vector<Store::Inbox::Plain> run;
    std::vector<size_t> run_index;
    std::set<std::string> run_ids;
    const auto flush = [&] {
      const std::vector<bool> fresh = inbox.AcceptPlain(run);
      for (size_t k = 0; k < run.size(); ++k) outcomes[run_index[k]].fresh = fresh[k];
      run.clear();
      run_index.clear();
      run_ids.clear();
    };
    const std::set<std::string> seen = inbox.Seen(event_ids);
    for (size_t i = 0; i < changes.size(); ++i) {
      const auto& ev = req.events(static_cast<int>(i));
      if (seen.count(ev.event_id())) continue;  // accepted before: acknowledged, nothing done again
      const Change& c = changes[i];
      ScopedTrace trace(c.trace);
      const Participant& p = c.p;
      std::string kind = c.kind;
      bool keep_copy = c.keep_copy;
      ComposeExtras extras = c.extras;
      if (kind == "expired" || kind == "handover_verify") {
        flush();  // what the events before it stored
        const std::optional<Participant> stored = inbox.GetParticipant(p.registration_id);
        if (kind == "expired" && !stored.has_value()) {
          // Never heard of before its hold ran out: the decoy that answered a second
          // registration of an address. It told nobody anything, and its end is news to nobody.
          kind.clear();
          keep_copy = false;
        }
        if (kind == "handover_verify" && stored.has_value()) {
          // Who hands the place over: the holder, whose copy this service still keeps.
          extras.previous_holder = FullName(*stored);
        }
      }
      if (!kind.empty() && !p.email.empty()) {
        const auto webinar = webinars.find(p.event_id);  // asked above: kinds only get cleared
        if (webinar == webinars.end()) return Status::Internal("webinar not looked up");
        if (!webinar->second.ok()) {
          stopped = webinar->second.status();
          reached = i;
          break;
        }
        auto m = Compose(*webinar->second, kind, p, ev.event_id() + ":" + kind, extras);
        if (!m.ok()) {
          stopped = m.status();
          reached = i;
          break;
        }
        messages[i].push_back(std::move(*m));
      }
      outcomes[i].what = messages[i].empty() ? "no mail" : "queued " + kind;
      if (Store::Inbox::IsPlain(p, keep_copy, messages[i])) {
        if (!run_ids.insert(ev.event_id()).second) {  // the same id twice: the second after
          flush();
          run_ids.insert(ev.event_id());
        }
        run.push_back({&ev.event_id(), &ev.kind(), &p,
                       messages[i].empty() ? nullptr : &messages[i][0], CurrentTraceparent()});
        run_index.push_back(i);
      } else {
        flush();
        outcomes[i].fresh = inbox.Accept(ev.event_id(), ev.kind(), p, keep_copy, messages[i]);
      }
    }
    flush();
    outcomes.resize(reached);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  // Committed: acknowledged, and logged in each event's trace.
  for (size_t i = 0; i < outcomes.size(); ++i) {
    const auto& ev = req.events(static_cast<int>(i));
    if (outcomes[i].fresh) {
      ScopedTrace trace(changes[i].trace);
      spdlog::info("event {} ({}) for registrations/{}: {}", ev.event_id(), ev.kind(),
                   changes[i].p.registration_id, outcomes[i].what);
    }
    resp->add_acknowledged_event_ids(ev.event_id());
  }
  return stopped;  // the relay retries the rest later
}

Status Notifier::ListMessages(const CallContext&, const v1::ListMessagesRequest& req,
                              v1::ListMessagesResponse* resp) {
  ECD_ASSIGN_OR_RETURN(auto size, CheckPageSize(req.page_size()));
  std::string event_id, registration_id;
  if (!req.event().empty()) {
    ECD_ASSIGN_OR_RETURN(auto id, ParseResourceName(req.event(), "events", "event"));
    event_id = id;
  }
  if (!req.registration().empty()) {
    ECD_ASSIGN_OR_RETURN(auto id,
                         ParseResourceName(req.registration(), "registrations", "registration"));
    registration_id = id;
  }
  if (!v1::MessageState_IsValid(req.state())) {
    return Status::InvalidArgument("state", "must be one of the MessageState values");
  }
  // A filter that names nothing this service or the catalogue knows is a mistake, not an empty
  // list.
  if (!registration_id.empty()) {
    ECD_ASSIGN_OR_RETURN(auto known, store_.RegistrationKnown(registration_id));
    if (!known) {
      return Status::NotFound(req.registration())
          .With("detail", "no change or message about this registration reached this service");
    }
  }
  if (!event_id.empty()) {
    ECD_ASSIGN_OR_RETURN(auto known, store_.EventKnown(event_id));
    if (!known) {
      ECD_ASSIGN_OR_RETURN(auto event, catalogue_.GetEvent(event_id));
    }
  }
  v1::ListMessagesRequest key = req;
  key.clear_page_size();
  key.clear_page_token();
  const ListPaging paging(page_tokens_, "NotificationService/ListMessages",
                          key.SerializeAsString());
  ECD_ASSIGN_OR_RETURN(const std::optional<PageCursor> after, paging.Open(req.page_token()));
  ECD_ASSIGN_OR_RETURN(auto rows,
                       store_.List(event_id, registration_id, req.state(), after, size + 1));
  for (int i = 0; i < static_cast<int>(rows.size()) && i < size; ++i) {
    *resp->add_messages() = (rows)[i];
  }
  if (static_cast<int>(rows.size()) > size) {
    const auto& last = resp->messages(size - 1);
    resp->set_next_page_token(paging.Seal(Micros(last.create_time()), IdOf(last.name())));
  }
  return Status::Ok();
}

Status Notifier::GetMessage(const CallContext&, const v1::GetMessageRequest& req,
                            v1::GetMessageResponse* resp) {
  ECD_ASSIGN_OR_RETURN(auto id, ParseResourceName(req.name(), "messages", "name"));
  ECD_ASSIGN_OR_RETURN(auto m, store_.Get(id));
  *resp->mutable_message() = std::move(m);
  return Status::Ok();
}

Status Notifier::ResendMessage(const CallContext&, const v1::ResendMessageRequest& req,
                               v1::ResendMessageResponse* resp) {
  ECD_ASSIGN_OR_RETURN(auto id, ParseResourceName(req.name(), "messages", "name"));
  ECD_ASSIGN_OR_RETURN(auto m, store_.Get(id));
  if (m.recipient().empty()) {
    return Status::FailedPrecondition("PERSONAL_DATA_ERASED", "the recipient's data were erased");
  }
  NewMessage copy;
  copy.dedupe_key = "resend:" + NewUuid();
  copy.registration_id = m.registration().empty() ? "" : IdOf(m.registration());
  copy.event_id = IdOf(m.event());
  copy.kind = m.kind();
  copy.language = m.language();
  copy.recipient = m.recipient();
  copy.subject = m.subject();
  copy.body = m.body();
  copy.icalendar = m.icalendar();
  auto files = store_.Attachments(id);  // the same files (kept once, by digest)
  if (!files.ok()) return files.status();
  copy.attachments = std::move(*files);
  ECD_RETURN_IF_ERROR(store_.Queue({copy}).status());
  ECD_ASSIGN_OR_RETURN(auto list, store_.List("", copy.registration_id, 0, std::nullopt, 1000));
  for (const auto& candidate : list) {
    if (candidate.kind() == copy.kind && candidate.state() == v1::MESSAGE_STATE_PENDING) {
      *resp->mutable_message() = candidate;
    }
  }
  return Status::Ok();
}

Status Notifier::PreviewMessage(const CallContext&, const v1::PreviewMessageRequest& req,
                                v1::PreviewMessageResponse* resp) {
  ECD_ASSIGN_OR_RETURN(auto id,
                       ParseResourceName(req.registration(), "registrations", "registration"));
  const auto& kinds = Templates::Kinds();
  std::string kind;
  if (req.message_kind() != v1::MESSAGE_KIND_UNSPECIFIED) {
    kind = KindName(req.message_kind());
    if (kind.empty() || std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) {
      std::string valid;
      for (const auto& k : kinds) {
        valid += (valid.empty() ? "" : ", ") + v1::MessageKind_Name(KindValue(k));
      }
      return Status::InvalidArgument(
                 "message_kind",
                 "unknown kind " + std::to_string(req.message_kind()) + "; the kinds are " + valid)
          .With("valid", valid);
    }
    if (!req.kind().empty() && req.kind() != kind) {
      return Status::InvalidArgument(
          "kind", "names another kind than message_kind (kind is deprecated: give message_kind)");
    }
  } else {
    // The deprecated string field, still accepted.
    kind = req.kind();
    if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) {
      std::string valid;
      for (const auto& k : kinds) valid += (valid.empty() ? "" : ", ") + k;
      return Status::InvalidArgument(
                 kind.empty() ? "message_kind" : "kind",
                 (kind.empty() ? std::string("is required")
                               : "unknown kind of message \"" + Escaped(kind, 64) + "\"") +
                     "; the kinds are " + valid + " (as message_kind: MESSAGE_KIND_ + in capitals)")
          .With("valid", valid);
    }
  }
  ECD_ASSIGN_OR_RETURN(auto p, store_.GetParticipant(id));
  if (!p.has_value()) return Status::NotFound(req.registration());
  if (p->erased) {
    return Status::FailedPrecondition("PERSONAL_DATA_ERASED", "the participant's data were erased");
  }
  ComposeExtras extras;
  extras.waitlist_position = 1;
  // Placeholders: the real codes and keys exist only in the mails that carry them.
  if (CarriesCode(kind)) {
    extras.secret = "000000";
  } else if (kind == "already_registered" || kind == "participant_key" ||
             kind == "handed_over_to_you") {
    extras.secret = "PARTICIPANT-KEY";
  }
  if (CarriesCode(kind) || kind == "handover_requested" || kind == "handover_expired") {
    const auto in_30_minutes = std::chrono::system_clock::now() + std::chrono::minutes(30);
    extras.hold_expire_micros =
        std::chrono::duration_cast<std::chrono::microseconds>(in_30_minutes.time_since_epoch())
            .count();
  }
  if (kind == "handover_verify") extras.previous_holder = FullName(*p);
  ECD_ASSIGN_OR_RETURN(auto m, Compose(kind, *p, "preview", extras));
  resp->set_subject(m.subject);
  resp->set_body(m.body);
  resp->set_icalendar(m.icalendar);
  SetAttachmentInfo(m.attachments, resp->mutable_attachments());
  return Status::Ok();
}

Status Notifier::SendAnnouncement(const CallContext&, const v1::SendAnnouncementRequest& req,
                                  v1::SendAnnouncementResponse* resp) {
  ECD_ASSIGN_OR_RETURN(auto event_id, ParseResourceName(req.event(), "events", "event"));
  if (req.text().empty() || req.text().size() > 10000) {
    return Status::InvalidArgument("text", "must be 1 to 10000 characters");
  }
  if (req.request_id().empty() || req.request_id().size() > 128) {
    return Status::InvalidArgument("request_id", "is required (up to 128 characters)");
  }
  // An event that does not exist is NOT_FOUND, not an announcement to nobody.
  ECD_ASSIGN_OR_RETURN(auto event, catalogue_.GetEvent(event_id));
  ECD_ASSIGN_OR_RETURN(auto people, store_.ConfirmedOf(event_id));
  std::vector<NewMessage> messages;
  for (const auto& p : people) {
    ComposeExtras extras;
    extras.text = req.text();
    ECD_ASSIGN_OR_RETURN(
        auto m, Compose(event, "announcement", p,
                        "announcement:" + req.request_id() + ":" + p.registration_id, extras));
    messages.push_back(std::move(m));
  }
  ECD_RETURN_IF_ERROR(store_.Queue(messages).status());
  resp->set_recipients(static_cast<int32_t>(people.size()));
  return Status::Ok();
}

Status Notifier::SendCertificate(const CallContext&, const v1::SendCertificateRequest& req,
                                 v1::SendCertificateResponse* resp) {
  ECD_ASSIGN_OR_RETURN(auto cert_id,
                       ParseResourceName(req.certificate(), "certificates", "certificate"));
  ECD_ASSIGN_OR_RETURN(auto reg_id,
                       ParseResourceName(req.registration(), "registrations", "registration"));
  if (req.pdf().empty() || req.pdf().size() > (5u << 20)) {
    return Status::InvalidArgument("pdf", "must be 1 byte to 5 MiB");
  }
  if (req.serial().empty() || req.serial().size() > 64) {
    return Status::InvalidArgument("serial", "must be 1 to 64 characters");
  }
  const std::string key = "certificate:" + cert_id;
  ECD_ASSIGN_OR_RETURN(auto existing, store_.FindByDedupeKey(key));
  if (existing.has_value()) {  // sent (or being sent) already
    *resp->mutable_message() = *existing;
    return Status::Ok();
  }
  ECD_ASSIGN_OR_RETURN(auto p, store_.GetParticipant(reg_id));
  if (!p.has_value()) {
    // The relay has not told us about this participant yet: the caller tries again later.
    return Status::Unavailable("PARTICIPANT_NOT_YET_KNOWN",
                               req.registration() + " is not known here yet");
  }
  if (p->erased) {
    return Status::FailedPrecondition("PERSONAL_DATA_ERASED", "the participant's data were erased");
  }
  ComposeExtras extras;
  extras.certificate_serial = req.serial();
  extras.certificate_verification_code = req.verification_code();
  Attachment pdf;
  pdf.filename = "certificate-" + req.serial() + ".pdf";
  pdf.content_type = "application/pdf";
  pdf.content = std::make_shared<const std::string>(req.pdf());
  pdf.sha256 = Sha256Hex(req.pdf());
  extras.files.push_back(std::move(pdf));
  ECD_ASSIGN_OR_RETURN(auto m, Compose("certificate_issued", *p, key, extras));
  ECD_RETURN_IF_ERROR(store_.Queue({m}).status());
  ECD_ASSIGN_OR_RETURN(auto stored, store_.FindByDedupeKey(key));
  if (stored.has_value()) *resp->mutable_message() = *stored;
  return Status::Ok();
}

}  // namespace ecd::notifications
