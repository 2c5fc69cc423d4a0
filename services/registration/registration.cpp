#include "services/registration/registration.hpp"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "common/countries.hpp"
#include "common/crypto.hpp"
#include "common/csv.hpp"
#include "common/email.hpp"
#include "common/event_lifecycle.hpp"
#include "common/field_mask.hpp"
#include "common/metrics.hpp"
#include "common/paging.hpp"
#include "common/resource_name.hpp"
#include "common/text.hpp"
#include "common/time.hpp"
#include "services/registration/attendance.hpp"
#include "services/registration/validation.hpp"

namespace ecd::registration {
namespace {

namespace cat = ::ecd::catalogue::v1;
constexpr Role kAdmin = Role::kAdmin, kFrontend = Role::kFrontend,
               kIntegration = Role::kIntegration, kService = Role::kService;

// A stable hash of what was asked, to tell a retry from a different request with the same key.
std::string RequestHash(v1::RegisterRequest req) {
  req.clear_request_id();
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream out(&bytes);
    google::protobuf::io::CodedOutputStream coded(&out);
    coded.SetSerializationDeterministic(true);
    req.SerializeToCodedStream(&coded);
  }
  return Sha256Hex(bytes);
}

}  // namespace

RoleTable RegistrationRoles(bool integration_reads) {
  std::initializer_list<Role> readers = {kAdmin, kService};
  std::initializer_list<Role> readers_with_integration = {kAdmin, kService, kIntegration};
  auto reads = integration_reads ? readers_with_integration : readers;
  // GetRegistration: frontends too, with the registration's participant key.
  std::initializer_list<Role> one = {kAdmin, kService, kFrontend};
  std::initializer_list<Role> one_with_integration = {kAdmin, kService, kFrontend, kIntegration};
  return RoleTable{
      {"Register", {kAdmin, kFrontend}},
      {"VerifyRegistration", {kAdmin, kFrontend}},
      {"GetRegistration", integration_reads ? one_with_integration : one},
      {"UpdateRegistration", {kAdmin, kFrontend}},
      {"ResendParticipantKey", {kAdmin, kFrontend}},
      {"ListRegistrations", reads},
      {"CancelRegistration", {kAdmin, kFrontend}},
      {"ApproveRegistration", {kAdmin}},
      {"RejectRegistration", {kAdmin}},
      {"BatchApproveRegistrations", {kAdmin}},
      {"BatchRejectRegistrations", {kAdmin}},
      {"SetCountrySeats", {kAdmin}},
      {"GetEventReport", {kAdmin, kIntegration}},
      {"GetSeriesReport", {kAdmin, kIntegration}},
      {"GetAvailability", {kAdmin, kService, kFrontend, kIntegration}},
      {"WatchAvailability", {kAdmin, kService, kFrontend, kIntegration}},
      {"ExportRegistrations", {kAdmin}},
      {"ImportAttendance", {kAdmin}},
      {"ErasePersonalData", {kAdmin}},
      {"ListErasures", {kAdmin, kService}},
  };
}

std::string ParticipantKeys::Mint(const std::string& registration_id, int version) const {
  // Version 0 is what the cancellation token always was.
  const std::string what = version == 0
                               ? "cancel:" + registration_id
                               : "participant:" + registration_id + ":" + std::to_string(version);
  return Base64UrlEncode(HmacSha256(secret_, what));
}

bool ParticipantKeys::Check(const std::string& registration_id, int version,
                            const std::string& key) const {
  return key.size() <= 128 && ConstantTimeEquals(Mint(registration_id, version), key);
}

void Registrations::Remember(const std::vector<QuotaState>& quotas) {
  if (d_.cache == nullptr) return;
  for (const auto& q : quotas) d_.cache->Store(q);
}

namespace {

// A registration's outcome for ecd_registrations_total: the status it got ("confirmed",
// "waitlisted", ...) or the reason it was refused ("already_registered", "quota_full", ...).
void CountOutcome(const Status& s, const v1::RegisterResponse& resp) {
  std::string outcome;
  if (s.ok()) {
    outcome = v1::RegistrationStatus_Name(resp.registration().status());
    if (outcome.rfind("REGISTRATION_STATUS_", 0) == 0) outcome.erase(0, 20);
  } else {
    outcome = s.reason().empty() ? CodeName(s.code()) : s.reason();
  }
  for (char& ch : outcome) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  Counter("ecd_registrations_total", "Register calls by outcome (status given or reason refused).",
          {{"outcome", outcome}})
      .Inc();
}

}  // namespace

Status Registrations::PublishMetrics() {
  ECD_ASSIGN_OR_RETURN(auto backlog, d_.repo.OutboxBacklog());
  Gauge("ecd_outbox_pending", "Outbox events not yet taken by the notifications service.")
      .Set(static_cast<double>(backlog.first));
  Gauge("ecd_outbox_oldest_age_seconds", "Age of the oldest outbox event not yet delivered.")
      .Set(backlog.second);

  ECD_ASSIGN_OR_RETURN(auto quotas, d_.repo.RecentQuotas());
  std::map<std::string, std::vector<std::string>> countries;  // by event
  for (const auto& q : quotas) {
    const MetricLabels labels = {{"event", q.event_id}, {"country", q.country}};
    Gauge("ecd_quota_seats_taken", "Seats taken (confirmed, pending approval, held) per country.",
          labels)
        .Set(q.taken);
    Gauge("ecd_quota_seats_limit", "Seats a country may take.", labels).Set(q.limit);
    Gauge("ecd_quota_waitlisted", "Registrations on a country's waiting list.", labels)
        .Set(q.waitlisted);
    countries[q.event_id].push_back(q.country);
  }
  if (d_.cache == nullptr) return Status::Ok();
  // Redis holds a copy written after each change, newest version wins: a copy of the same version
  // with other figures, or of a version PostgreSQL never had, is wrong. An older copy is only
  // late (its writer is behind) and not counted.
  int mismatches = 0;
  for (const auto& [event_id, list] : countries) {
    auto cached = d_.cache->Load(event_id, list);
    if (!cached.ok()) return Status::Ok();  // Redis down: ecd_redis_up says so
    for (const auto& q : quotas) {
      if (q.event_id != event_id) continue;
      auto it = cached->find(q.country);
      if (it == cached->end()) continue;
      const QuotaState& r = it->second;
      if (r.version > q.version ||
          (r.version == q.version &&
           (r.taken != q.taken || r.limit != q.limit || r.waitlisted != q.waitlisted))) {
        ++mismatches;
        spdlog::warn("Redis holds {}/{} as taken {} of {} (version {}), PostgreSQL {} of {} ({})",
                     event_id, q.country, r.taken, r.limit, r.version, q.taken, q.limit, q.version);
      }
    }
  }
  Gauge("ecd_quota_redis_mismatches",
        "Counters whose Redis copy disagrees with PostgreSQL at the last check.")
      .Set(mismatches);
  return Status::Ok();
}

void Registrations::Register(const CallContext& c, const v1::RegisterRequest& req,
                             v1::RegisterResponse* resp, Done done) {
  auto answer = [resp, done = std::move(done)](const Status& s) {
    CountOutcome(s, *resp);
    done(s);
  };
  v1::RegisterRequest normalised = NormaliseRegisterRequest(req);
  if (Status valid = ValidateRegisterRequest(normalised); !valid.ok()) return answer(valid);
  std::string hash = RequestHash(normalised);
  const std::string event_id = IdOf(req.event());

  auto event = d_.catalogue.GetEventPtr(event_id);
  Status open = CheckRegistrationOpen(event, req, d_.now_micros());
  if (!open.ok()) {
    // A retry is answered as the first time was, whatever changed since (the window may have
    // closed in between): only a refusal costs this extra look-up.
    auto prior = d_.repo.FindRequest(req.request_id(), hash);
    if (!prior.ok()) return answer(prior.status());
    if (!prior->has_value()) return answer(open);
    FillRegistered(std::move(**prior), resp);
    return answer(Status::Ok());
  }

  // A frontend's registration holds its place until the address is verified (a frontend token
  // is in every app: whoever holds it is a stranger), unless the event turns that off.
  const EventRules rules{
      event_id, (*event)->participants_per_country(),
      (*event)->approval_mode() == cat::APPROVAL_MODE_MANUAL,
      c.role == Role::kFrontend && (*event)->email_verification() != cat::EMAIL_VERIFICATION_OFF,
      d_.hold_micros};
  d_.repo.RegisterAsync(rules, std::move(*normalised.mutable_participant()), req.request_id(),
                        std::move(hash),
                        [this, resp, answer = std::move(answer)](StatusOr<Change> change) {
                          if (!change.ok()) return answer(change.status());
                          Remember(change->quotas);
                          FillRegistered(std::move(change->registration), resp);
                          answer(Status::Ok());
                        });
}

void Registrations::FillRegistered(v1::Registration registration, v1::RegisterResponse* resp) {
  *resp->mutable_registration() = std::move(registration);
  resp->set_participant_key(d_.keys.Mint(IdOf(resp->registration().name())));
  resp->set_cancellation_token(resp->participant_key());
}

Status Registrations::CheckKey(const CallContext& c, const std::string& id, const std::string& key,
                               const char* field) {
  // Admin needs no key; a service needs none for itself, but a key it passes on (the
  // certificates service asking for a frontend's participant) is checked like a frontend's.
  if (c.role == Role::kAdmin || (c.role != Role::kFrontend && key.empty())) return Status::Ok();
  if (key.empty()) return Status::InvalidArgument(field, "is required");
  int version = 0;
  auto reg = d_.repo.Get(id, &version);
  if (!reg.ok() && reg.status().code() != Code::kNotFound) return reg.status();
  if (!reg.ok() || !d_.keys.Check(id, version, key)) {
    const bool legacy = std::string_view(field) == "cancellation_token";
    return Status(Code::kPermissionDenied,
                  legacy ? "INVALID_CANCELLATION_TOKEN" : "INVALID_PARTICIPANT_KEY",
                  std::string("the ") + (legacy ? "cancellation token" : "participant key") +
                      " does not open this registration")
        .With("field", field);
  }
  return Status::Ok();
}

Status Registrations::VerifyRegistration(const CallContext&,
                                         const v1::VerifyRegistrationRequest& req,
                                         v1::VerifyRegistrationResponse* resp) {
  ECD_ASSIGN_OR_RETURN(auto id, ParseRegistrationName(req.name(), "name"));
  if (req.code().size() != 6 || req.code().find_first_not_of("0123456789") != std::string::npos) {
    return Status::InvalidArgument("code", "must be the 6 digits mailed to the address");
  }
  ECD_ASSIGN_OR_RETURN(auto change, d_.repo.Verify(id, req.code()));
  Remember(change.quotas);
  *resp->mutable_registration() = change.registration;
  return Status::Ok();
}

Status Registrations::UpdateRegistration(const CallContext& c,
                                         const v1::UpdateRegistrationRequest& req,
                                         v1::UpdateRegistrationResponse* resp) {
  ECD_ASSIGN_OR_RETURN(auto id,
                       ParseRegistrationName(req.registration().name(), "registration.name"));
  ECD_RETURN_IF_ERROR(CheckKey(c, id, req.participant_key(), "participant_key"));
  static const std::vector<std::string> kUpdatable = {
      "given_name", "family_name",        "certificate_name", "organisation",
      "job_title",  "preferred_language", "time_zone",        "email"};
  ECD_ASSIGN_OR_RETURN(
      auto mask, CheckMask({req.update_mask().paths().begin(), req.update_mask().paths().end()},
                           kUpdatable, "participant."));
  const std::set<std::string> paths(mask.begin(), mask.end());
  int version = 0;
  ECD_ASSIGN_OR_RETURN(auto current, d_.repo.Get(id, &version));
  if (current.erased()) {
    return Status::FailedPrecondition("PERSONAL_DATA_ERASED", "this registration was erased");
  }
  ECD_ASSIGN_OR_RETURN(auto event, EventOfRegistration(id));
  ECD_RETURN_IF_ERROR(RequireActive(event, d_.now_micros(), "changing a registration"));
  // The participant as it would be, normalised and checked by the same rules as Register.
  v1::RegisterRequest as_register;
  as_register.set_event(current.event());
  as_register.set_request_id("update");
  *as_register.mutable_participant() = current.participant();
  const auto& patch = req.registration().participant();
  auto* next = as_register.mutable_participant();
  for (const auto& path : paths) {
    const auto* field = v1::Participant::descriptor()->FindFieldByName(path);
    v1::Participant::GetReflection()->SetString(
        next, field, v1::Participant::GetReflection()->GetString(patch, field));
  }
  as_register = NormaliseRegisterRequest(as_register);
  Status valid = ValidateRegisterRequest(as_register);
  if (!valid.ok()) {
    // Named as the caller named them: registration.participant.*, every one of them.
    Violations named;
    if (valid.violations().empty()) {
      named.Add(Status::InvalidArgument("registration." + valid.field(), valid.message()));
    }
    for (const auto& [field, why] : valid.violations()) {
      named.Add(Status::InvalidArgument("registration." + field, why));
    }
    return named.status();
  }
  if (paths.count("email") != 0 &&
      as_register.participant().email() != NormaliseEmail(current.participant().email())) {
    // A hand-over: the colleague (same country) verifies their address; the seat stays.
    ECD_ASSIGN_OR_RETURN(auto change,
                         d_.repo.HandOver(id, as_register.participant(), d_.hold_micros));
    *resp->mutable_registration() = change.registration;
    return Status::Ok();
  }
  const auto& p = as_register.participant();
  ECD_ASSIGN_OR_RETURN(
      auto change,
      d_.repo.Correct(
          id, Correction{p.given_name(), p.family_name(), p.certificate_name(), p.organisation(),
                         p.job_title(), p.preferred_language(), p.time_zone()}));
  *resp->mutable_registration() = change.registration;
  return Status::Ok();
}

Status Registrations::ResendParticipantKey(const CallContext&,
                                           const v1::ResendParticipantKeyRequest& req,
                                           v1::ResendParticipantKeyResponse*) {
  ECD_ASSIGN_OR_RETURN(auto id, ParseEventName(req.event(), "event"));
  ECD_ASSIGN_OR_RETURN(auto email, CanonicalEmail(req.email(), "email"));
  // The same answer whether or not the address is registered: only its mailbox learns.
  return d_.repo.ResendKey(id, email);
}

StatusOr<int> Registrations::ExpireHolds() {
  std::map<std::string, bool> closed;  // per event: promotions stopped
  auto changes = d_.repo.ExpireHolds(100, [&](const std::string& event_id) {
    auto it = closed.find(event_id);
    if (it != closed.end()) return it->second;
    auto event = d_.catalogue.GetEvent(event_id);
    // Unknown (or unreachable) events promote nobody: a wrong promotion cannot be undone.
    const bool stop = !event.ok() || event->status() != cat::EVENT_STATUS_PUBLISHED;
    closed[event_id] = stop;
    return stop;
  });
  if (!changes.ok()) return changes.status();
  for (const auto& change : *changes) Remember(change.quotas);
  return static_cast<int>(changes->size());
}

Status Registrations::GetRegistration(const CallContext& c, const v1::GetRegistrationRequest& req,
                                      v1::GetRegistrationResponse* resp) {
  ECD_ASSIGN_OR_RETURN(auto id, ParseRegistrationName(req.name(), "name"));
  ECD_RETURN_IF_ERROR(CheckKey(c, id, req.participant_key(), "participant_key"));
  ECD_ASSIGN_OR_RETURN(auto reg, d_.repo.Get(id));
  *resp->mutable_registration() = std::move(reg);
  return Status::Ok();
}

Status Registrations::ListRegistrations(const CallContext& c,
                                        const v1::ListRegistrationsRequest& req,
                                        v1::ListRegistrationsResponse* resp) {
  ECD_ASSIGN_OR_RETURN(auto size, CheckPageSize(req.page_size()));
  ListFilter f;
  if (!req.event().empty()) {
    // An event the catalogue does not know is NOT_FOUND, not an empty list.
    ECD_ASSIGN_OR_RETURN(auto id, VisibleEvent(c, req.event()));
    f.event_id = id;
  }
  if (!req.country_code().empty() && !IsIsoCountry(req.country_code())) {
    return Status::InvalidArgument("country_code", "must be an ISO 3166-1 alpha-2 code");
  }
  f.country = req.country_code();
  if (!v1::RegistrationStatus_IsValid(req.status())) {
    return Status::InvalidArgument("status", "must be one of the RegistrationStatus values");
  }
  f.status = req.status();
  v1::ListRegistrationsRequest key = req;
  key.clear_page_size();
  key.clear_page_token();
  const std::string filter_key = key.SerializeAsString();
  const ListPaging paging(d_.page_tokens, "RegistrationService/ListRegistrations", filter_key);
  ECD_ASSIGN_OR_RETURN(auto cursor, paging.Open(req.page_token()));
  std::optional<Cursor> after;
  if (cursor.has_value()) after = Cursor{cursor->micros, cursor->id};
  ECD_ASSIGN_OR_RETURN(auto rows, d_.repo.List(f, after, size + 1));
  for (int i = 0; i < static_cast<int>(rows.size()) && i < size; ++i) {
    *resp->add_registrations() = (rows)[i];
  }
  if (static_cast<int>(rows.size()) > size) {
    const auto& last = resp->registrations(size - 1);
    resp->set_next_page_token(paging.Seal(Micros(last.create_time()), IdOf(last.name())));
  }
  return Status::Ok();
}

Status Registrations::CancelRegistration(const CallContext& c,
                                         const v1::CancelRegistrationRequest& req,
                                         v1::CancelRegistrationResponse* resp) {
  ECD_ASSIGN_OR_RETURN(auto id, ParseRegistrationName(req.name(), "name"));
  // The participant key, or the cancellation token it generalises (the same value).
  const bool legacy = req.participant_key().empty() && !req.cancellation_token().empty();
  ECD_RETURN_IF_ERROR(CheckKey(c, id, legacy ? req.cancellation_token() : req.participant_key(),
                               legacy ? "cancellation_token" : "participant_key"));
  // Once the event is over, a freed seat goes to nobody: promotions have stopped.
  ECD_ASSIGN_OR_RETURN(auto event, EventOfRegistration(id));
  ECD_ASSIGN_OR_RETURN(auto change,
                       d_.repo.Cancel(id, event.status() == cat::EVENT_STATUS_PUBLISHED));
  Remember(change.quotas);
  *resp->mutable_registration() = change.registration;
  return Status::Ok();
}

Status Registrations::ApproveRegistration(const CallContext&,
                                          const v1::ApproveRegistrationRequest& req,
                                          v1::ApproveRegistrationResponse* resp) {
  ECD_ASSIGN_OR_RETURN(auto id, ParseRegistrationName(req.name(), "name"));
  ECD_ASSIGN_OR_RETURN(auto event, EventOfRegistration(id));
  ECD_RETURN_IF_ERROR(RequireActive(event, d_.now_micros(), "approving a registration"));
  ECD_ASSIGN_OR_RETURN(auto change, d_.repo.Approve(id));
  *resp->mutable_registration() = change.registration;
  return Status::Ok();
}

Status Registrations::RejectRegistration(const CallContext&,
                                         const v1::RejectRegistrationRequest& req,
                                         v1::RejectRegistrationResponse* resp) {
  ECD_ASSIGN_OR_RETURN(auto id, ParseRegistrationName(req.name(), "name"));
  std::string reason = req.reason();
  if (IsValidUtf8(reason)) reason = Nfc(reason);
  ECD_RETURN_IF_ERROR(CheckText(reason, "reason", {TextKind::kMultiLine, 1000, false}));
  ECD_ASSIGN_OR_RETURN(auto event, EventOfRegistration(id));
  ECD_RETURN_IF_ERROR(RequireActive(event, d_.now_micros(), "rejecting a registration"));
  ECD_ASSIGN_OR_RETURN(auto change, d_.repo.Reject(id, reason));
  Remember(change.quotas);
  *resp->mutable_registration() = change.registration;
  return Status::Ok();
}

StatusOr<std::string> Registrations::VisibleEvent(const CallContext& c,
                                                  const std::string& event_name) {
  ECD_ASSIGN_OR_RETURN(auto id, ParseEventName(event_name, "event"));
  ECD_ASSIGN_OR_RETURN(auto event, d_.catalogue.GetEvent(id));
  if (!c.privileged() && event.status() == cat::EVENT_STATUS_DRAFT) {
    return Status::NotFound(event_name);
  }
  return id;
}

Status Registrations::GetAvailability(const CallContext& c, const v1::GetAvailabilityRequest& req,
                                      v1::GetAvailabilityResponse* resp) {
  ECD_ASSIGN_OR_RETURN(auto id, VisibleEvent(c, req.event()));
  ECD_ASSIGN_OR_RETURN(auto event, d_.catalogue.GetEvent(id));
  std::vector<std::string> countries(event.invited_countries().begin(),
                                     event.invited_countries().end());
  std::sort(countries.begin(), countries.end());
  std::map<std::string, QuotaState> known;
  if (d_.cache != nullptr) {
    auto cached = d_.cache->Load(id, countries);
    if (cached.ok()) known = std::move(*cached);
  }
  if (known.size() < countries.size()) {
    // Missing, flushed or Redis down: PostgreSQL has the figures; Redis gets them back.
    ECD_ASSIGN_OR_RETURN(auto stored, d_.repo.QuotasOfEvent(id));
    for (const auto& q : stored) {
      if (known.count(q.country) == 0) {
        known[q.country] = q;
        if (d_.cache != nullptr) d_.cache->Store(q);
      }
    }
  }
  resp->set_event(req.event());
  for (const auto& country : countries) {
    auto* a = resp->add_countries();
    a->set_country_code(country);
    auto it = known.find(country);
    if (it == known.end()) {
      a->set_limit(event.participants_per_country());
    } else {
      a->set_limit(it->second.limit);
      a->set_taken(it->second.taken);
      a->set_waitlisted(it->second.waitlisted);
    }
  }
  return Status::Ok();
}

Status Registrations::ImportAttendance(const CallContext& c, const v1::ImportAttendanceRequest& req,
                                       v1::ImportAttendanceResponse* resp) {
  if (req.report_csv().size() > kMaxReportBytes) {
    return Status::InvalidArgument("report_csv", "must be at most 10 MiB");
  }
  const std::string zone_name = req.time_zone().empty() ? "UTC" : req.time_zone();
  const std::optional<TimeZone> zone = TimeZone::Find(zone_name);
  if (!zone) {
    return Status::InvalidArgument("time_zone",
                                   "must be a canonical IANA time zone like "
                                   "Europe/Brussels (got \"" +
                                       Escaped(req.time_zone(), 64) + "\")");
  }
  ECD_ASSIGN_OR_RETURN(auto id, VisibleEvent(c, req.event()));
  ECD_ASSIGN_OR_RETURN(auto event, d_.catalogue.GetEvent(id));
  const int64_t now = d_.now_micros();
  ECD_RETURN_IF_ERROR(RequireHeld(event, now, "importing attendance"));
  ECD_RETURN_IF_ERROR(RequireStarted(event, now, "importing attendance"));
  const int64_t slot_start = Micros(event.start_time()), slot_end = Micros(event.end_time());

  ParsedReport report =
      ParseZoomReport(req.report_csv(), ReportOptions{*zone, slot_start, slot_end});
  if (!report.error.empty()) {
    return Status(Code::kInvalidArgument, "REPORT_FORMAT_UNKNOWN", report.error)
        .With("field", "report_csv")
        .With("first_line", Escaped(report.first_line, 200));
  }
  const Attendance attendance = MinutesInSlot(report, slot_start, slot_end);
  ECD_ASSIGN_OR_RETURN(auto registered, d_.repo.RegisteredEmails(id));
  std::map<std::string, int> matched_minutes;
  for (const auto& [email, minutes] : attendance.minutes_by_email) {
    if (registered.count(email) != 0) matched_minutes.emplace(email, minutes);
  }
  if (matched_minutes.empty()) {
    // Nothing to record: say what the file held and what it was expected to hold (admin only).
    auto list = [](auto begin, auto end) {
      std::string out;
      for (int n = 0; begin != end && n < 5; ++begin, ++n) {
        out += (out.empty() ? "" : ", ") + Escaped(*begin, 100);
      }
      return out;
    };
    std::vector<std::string> seen;
    for (const auto& [email, unused] : attendance.minutes_by_email) seen.push_back(email);
    return Status::FailedPrecondition(
               "NO_ROW_MATCHED",
               "no row of this " + std::string(ReportFormatName(report.format)) + " report (" +
                   std::to_string(report.data_rows) + " rows, " +
                   std::to_string(report.malformed.size()) +
                   " malformed) matches a registration of the event: nothing was recorded")
        .With("field", "report_csv")
        .With("report_format", ReportFormatName(report.format))
        .With("rows", std::to_string(report.data_rows))
        .With("report_emails", list(seen.begin(), seen.end()))
        .With("registered_emails", list(registered.begin(), registered.end()))
        .With("registered_count", std::to_string(registered.size()));
  }
  ECD_ASSIGN_OR_RETURN(auto matched, d_.repo.RecordAttendance(id, matched_minutes));
  for (const auto& m : matched) {
    auto* a = resp->add_attendance();
    a->set_registration("registrations/" + m.registration_id);
    a->set_email(m.email);
    a->set_attended_minutes(m.minutes);
  }
  resp->set_format(static_cast<v1::ReportFormat>(report.format));
  resp->set_time_zone(zone->name());
  resp->set_time_format(report.time_format);
  resp->set_unique_users(report.unique_users);
  resp->set_rows(report.data_rows);
  resp->set_skipped_rows(report.skipped_rows);
  // Bounded answers: a file of junk must not make a response larger than a message may be.
  constexpr int kMaxListed = 1000;
  for (const auto& row : report.rows) {
    if (!row.attended) resp->set_not_attended_rows(resp->not_attended_rows() + 1);
    if (matched_minutes.count(row.email) != 0) {
      resp->set_matched_rows(resp->matched_rows() + 1);
      continue;
    }
    resp->set_unmatched_rows(resp->unmatched_rows() + 1);
    if (row.email.empty()) resp->set_rows_without_email(resp->rows_without_email() + 1);
  }
  for (const auto& [email, unused] : attendance.minutes_by_email) {
    if (matched_minutes.count(email) != 0) continue;
    resp->set_unmatched_count(resp->unmatched_count() + 1);
    if (resp->unmatched_emails_size() < kMaxListed) resp->add_unmatched_emails(email);
  }
  resp->set_malformed_count(static_cast<int32_t>(report.malformed.size()));
  for (const auto& bad : report.malformed) {
    if (resp->malformed_rows_size() >= kMaxListed) break;
    auto* m = resp->add_malformed_rows();
    m->set_line(bad.line);
    m->set_reason(bad.reason);
  }
  resp->set_out_of_slot_count(static_cast<int32_t>(attendance.out_of_slot.size()));
  for (const auto& row : attendance.out_of_slot) {
    if (resp->out_of_slot_rows_size() >= kMaxListed) break;
    auto* o = resp->add_out_of_slot_rows();
    o->set_line(row.line);
    o->set_email(row.email);
    o->set_reason(row.reason);
  }
  return Status::Ok();
}

Status Registrations::ErasePersonalData(const CallContext&, const v1::ErasePersonalDataRequest& req,
                                        v1::ErasePersonalDataResponse* resp) {
  ECD_ASSIGN_OR_RETURN(auto canonical, CanonicalEmail(req.email(), "email"));
  const std::string email = canonical;
  ECD_ASSIGN_OR_RETURN(auto events, d_.repo.EventsOfEmail(email));
  std::set<std::string> closed;  // no promotion there
  for (const auto& event_id : events) {
    auto event = d_.catalogue.GetEvent(event_id);
    if (!event.ok() && event.status().code() != Code::kNotFound) return event.status();
    if (!event.ok() || event->status() != cat::EVENT_STATUS_PUBLISHED) closed.insert(event_id);
  }
  ECD_ASSIGN_OR_RETURN(auto result, d_.repo.Erase(email, closed));
  Remember(result.quotas);
  resp->set_erased(result.erased);
  resp->set_cancelled(result.cancelled);
  resp->set_other_registrations(result.others);
  return Status::Ok();
}

Status Registrations::ListErasures(const CallContext&, const v1::ListErasuresRequest& req,
                                   v1::ListErasuresResponse* resp) {
  ECD_ASSIGN_OR_RETURN(auto size, CheckPageSize(req.page_size(), 100, 1000));
  const ListPaging paging(d_.page_tokens, "RegistrationService/ListErasures", "");
  auto cursor = paging.Open(req.page_token());
  if (!cursor.ok()) return cursor.status();
  std::optional<Cursor> after;
  if (cursor->has_value()) after = Cursor{(*cursor)->micros, (*cursor)->id};
  ECD_ASSIGN_OR_RETURN(auto rows, d_.repo.Erasures(after, size));
  for (const auto& [id, cursor] : rows) {
    resp->add_registrations("registrations/" + id);
    after = cursor;
  }
  resp->set_resume_token(after ? paging.Seal(after->micros, after->id) : req.page_token());
  return Status::Ok();
}

namespace {

// A batch names 1 to 100 registrations.
Status CheckBatch(int names) {
  if (names == 0 || names > 100) {
    return Status::InvalidArgument("names", "give 1 to 100 registrations");
  }
  return Status::Ok();
}

// One registration's answer within a batch: the registration, or why it was refused.
void Record(const Status& st, const v1::Registration& registration, v1::BatchResult* result) {
  if (st.ok()) {
    *result->mutable_registration() = registration;
  } else {
    result->set_error_code(static_cast<int>(st.code()));
    result->set_error_reason(st.reason());
    result->set_error_message(st.message());
  }
}

}  // namespace

Status Registrations::BatchApproveRegistrations(const CallContext& c,
                                                const v1::BatchApproveRegistrationsRequest& req,
                                                v1::BatchApproveRegistrationsResponse* resp) {
  ECD_RETURN_IF_ERROR(CheckBatch(req.names_size()));
  for (int i = 0; i < req.names_size(); ++i) {
    auto* result = resp->add_results();
    result->set_name(req.names(i));
    v1::ApproveRegistrationRequest one;
    one.set_name(req.names(i));
    v1::ApproveRegistrationResponse done;
    Status st = ApproveRegistration(c, one, &done);
    Record(st, done.registration(), result);
  }
  return Status::Ok();
}

Status Registrations::BatchRejectRegistrations(const CallContext& c,
                                               const v1::BatchRejectRegistrationsRequest& req,
                                               v1::BatchRejectRegistrationsResponse* resp) {
  ECD_RETURN_IF_ERROR(CheckBatch(req.names_size()));
  for (int i = 0; i < req.names_size(); ++i) {
    auto* result = resp->add_results();
    result->set_name(req.names(i));
    v1::RejectRegistrationRequest one;
    one.set_name(req.names(i));
    one.set_reason(req.reason());
    v1::RejectRegistrationResponse done;
    Status st = RejectRegistration(c, one, &done);
    if (st.code() == Code::kInvalidArgument && st.field() == "reason") return st;  // for all
    Record(st, done.registration(), result);
  }
  return Status::Ok();
}

Status Registrations::SetCountrySeats(const CallContext&, const v1::SetCountrySeatsRequest& req,
                                      v1::SetCountrySeatsResponse* resp) {
  Violations v;
  if (req.seats() < 0 || req.seats() > 1000) {
    v.Add(Status::InvalidArgument("seats", "must be 1 to 1000, or 0 for the event's own"));
  }
  if (!IsIsoCountry(req.country_code())) {
    v.Add(Status::InvalidArgument("country_code", "must be an ISO 3166-1 alpha-2 code"));
  }
  auto id = ParseEventName(req.event(), "event");
  v.Add(id.status());
  ECD_RETURN_IF_ERROR(v.status());
  ECD_ASSIGN_OR_RETURN(auto event, d_.catalogue.GetEvent(*id));
  if (event.status() == cat::EVENT_STATUS_DRAFT) return Status::NotFound(req.event());
  ECD_RETURN_IF_ERROR(RequireActive(event, d_.now_micros(), "changing seats"));
  const auto& invited = event.invited_countries();
  if (std::find(invited.begin(), invited.end(), req.country_code()) == invited.end()) {
    return Status::FailedPrecondition("COUNTRY_NOT_INVITED",
                                      req.country_code() + " is not invited to this event")
        .With("field", "country_code");
  }
  EventRules rules{*id, event.participants_per_country(),
                   event.approval_mode() == cat::APPROVAL_MODE_MANUAL};
  std::vector<std::string> promoted;
  ECD_ASSIGN_OR_RETURN(auto change,
                       d_.repo.SetSeats(rules, req.country_code(), req.seats(), true, &promoted));
  Remember(change.quotas);
  auto* a = resp->mutable_availability();
  a->set_country_code(req.country_code());
  if (!change.quotas.empty()) {
    const QuotaState& q = change.quotas.back();
    a->set_limit(q.limit);
    a->set_taken(q.taken);
    a->set_waitlisted(q.waitlisted);
  }
  for (const auto& p : promoted) resp->add_promoted("registrations/" + p);
  return Status::Ok();
}

namespace {

void AddFigures(const v1::CountryFigures& from, v1::CountryFigures* to) {
  to->set_seats(to->seats() + from.seats());
  to->set_confirmed(to->confirmed() + from.confirmed());
  to->set_pending_approval(to->pending_approval() + from.pending_approval());
  to->set_pending_verification(to->pending_verification() + from.pending_verification());
  to->set_waitlisted(to->waitlisted() + from.waitlisted());
  to->set_cancelled(to->cancelled() + from.cancelled());
  to->set_rejected(to->rejected() + from.rejected());
  to->set_expired(to->expired() + from.expired());
  to->set_attended(to->attended() + from.attended());
  to->set_attended_enough(to->attended_enough() + from.attended_enough());
}

std::vector<std::string> FigureCells(const v1::CountryFigures& f) {
  std::vector<std::string> out;
  for (int n :
       {f.seats(), f.confirmed(), f.pending_approval(), f.pending_verification(), f.waitlisted(),
        f.cancelled(), f.rejected(), f.expired(), f.attended(), f.attended_enough()}) {
    out.push_back(std::to_string(n));
  }
  return out;
}

const std::vector<std::string> kFigureNames = {
    "seats",    "confirmed", "pending_approval", "pending_verification", "waitlisted", "cancelled",
    "rejected", "expired",   "attended",         "attended_enough"};

}  // namespace

StatusOr<v1::EventReport> Registrations::EventReport(const cat::Event& event,
                                                     std::map<int, int>* affiliations) {
  const std::string event_id = IdOf(event.name());
  ECD_ASSIGN_OR_RETURN(auto data, d_.repo.Report(event_id));
  v1::EventReport r;
  r.set_event(event.name());
  r.set_title(event.title());
  *r.mutable_start_time() = event.start_time();
  r.set_event_status(cat::EventStatus_Name(event.status()));
  r.set_duration_minutes(event.duration_minutes());
  const int threshold =
      (event.duration_minutes() * event.certificate_threshold_percent() + 99) / 100;
  r.set_threshold_minutes(threshold);
  std::map<std::string, v1::CountryFigures> countries;
  for (const auto& c : event.invited_countries()) {
    countries[c].set_seats(event.participants_per_country());
  }
  for (const auto& q : data.quotas) countries[q.country].set_seats(q.limit);
  int buckets[4] = {0, 0, 0, 0};  // <25 %, <50 %, <75 %, >= 75 % of the duration
  for (const auto& row : data.rows) {
    auto& f = countries[row.country];
    const bool place = row.status == 1 || row.status == 2 || row.status == 3;
    if (place && !row.verified) {
      f.set_pending_verification(f.pending_verification() + row.count);
      continue;
    }
    switch (row.status) {
      case 1:
        f.set_confirmed(f.confirmed() + row.count);
        for (int minutes : row.confirmed_minutes) {
          if (minutes > 0) f.set_attended(f.attended() + 1);
          if (minutes >= threshold && minutes > 0) f.set_attended_enough(f.attended_enough() + 1);
          const int percent =
              event.duration_minutes() > 0 ? minutes * 100 / event.duration_minutes() : 0;
          ++buckets[std::min(3, percent / 25)];
        }
        break;
      case 2:
        f.set_pending_approval(f.pending_approval() + row.count);
        break;
      case 3:
        f.set_waitlisted(f.waitlisted() + row.count);
        break;
      case 4:
        f.set_cancelled(f.cancelled() + row.count);
        break;
      case 5:
        f.set_rejected(f.rejected() + row.count);
        break;
      case 7:
        f.set_expired(f.expired() + row.count);
        break;
      default:
        break;
    }
  }
  auto* totals = r.mutable_totals();
  for (auto& [country, f] : countries) {
    f.set_country_code(country);
    AddFigures(f, totals);
    *r.add_countries() = f;
  }
  for (int b = 0; b < 4; ++b) {
    auto* bucket = r.add_attendance();
    bucket->set_from_percent(b * 25);
    bucket->set_to_percent(b == 3 ? 100 : (b + 1) * 25);
    bucket->set_registrations(buckets[b]);
  }
  r.set_attended_enough_per_mille(
      totals->confirmed() > 0 ? totals->attended_enough() * 1000 / totals->confirmed() : 0);
  if (d_.peers != nullptr) {
    if (auto certs = d_.peers->Certificates(event_id); certs.ok()) {
      r.set_certificates_counted(true);
      r.set_certificates_issued(certs->issued);
      r.set_certificates_revoked(certs->revoked);
    }
    if (auto messages = d_.peers->Messages(event_id); messages.ok()) {
      r.set_messages_counted(true);
      for (const auto& [state, n] : *messages) (*r.mutable_messages_by_state())[state] = n;
    }
  }
  if (affiliations != nullptr) {
    for (const auto& [a, n] : data.confirmed_by_affiliation) (*affiliations)[a] += n;
  }
  return r;
}

Status Registrations::GetEventReport(const CallContext& c, const v1::GetEventReportRequest& req,
                                     v1::GetEventReportResponse* resp) {
  ECD_ASSIGN_OR_RETURN(auto id, VisibleEvent(c, req.event()));
  ECD_ASSIGN_OR_RETURN(auto event, d_.catalogue.GetEvent(id));
  ECD_ASSIGN_OR_RETURN(auto report, EventReport(event, nullptr));
  if (req.format() == v1::EXPORT_FORMAT_CSV) {
    std::vector<std::string> header = {"country"};
    header.insert(header.end(), kFigureNames.begin(), kFigureNames.end());
    std::string csv = std::string(kUtf8Bom) + CsvRow(header);
    for (const auto& f : report.countries()) {
      auto cells = FigureCells(f);
      cells.insert(cells.begin(), f.country_code());
      csv += CsvRow(cells);
    }
    auto totals = FigureCells(report.totals());
    totals.insert(totals.begin(), "TOTAL");
    csv += CsvRow(totals) + CsvRow({}) + CsvRow({"figure", "value"});
    csv += CsvRow({"event", report.event()}) + CsvRow({"title", report.title()});
    csv += CsvRow({"threshold_minutes", std::to_string(report.threshold_minutes())});
    csv +=
        CsvRow({"attended_enough_per_mille", std::to_string(report.attended_enough_per_mille())});
    if (report.certificates_counted()) {
      csv += CsvRow({"certificates_issued", std::to_string(report.certificates_issued())});
      csv += CsvRow({"certificates_revoked", std::to_string(report.certificates_revoked())});
    }
    for (const auto& [state, n] : report.messages_by_state()) {
      csv += CsvRow({"messages " + state, std::to_string(n)});
    }
    resp->set_csv(csv);
  }
  *resp->mutable_report() = std::move(report);
  return Status::Ok();
}

Status Registrations::GetSeriesReport(const CallContext&, const v1::GetSeriesReportRequest& req,
                                      v1::GetSeriesReportResponse* resp) {
  ECD_ASSIGN_OR_RETURN(auto id, ParseResourceName(req.series(), "series", "series"));
  ECD_ASSIGN_OR_RETURN(auto series, d_.catalogue.GetSeries(id));
  ECD_ASSIGN_OR_RETURN(auto events, d_.catalogue.EventsOfSeries(id));
  v1::SeriesReport& r = *resp->mutable_report();
  r.set_series(req.series());
  std::map<int, int> affiliations;
  std::map<std::string, int> regions;
  std::set<std::string> reached;
  for (const auto& event : events) {
    if (event.status() == cat::EVENT_STATUS_DRAFT) continue;
    ECD_ASSIGN_OR_RETURN(auto report, EventReport(event, &affiliations));
    AddFigures(report.totals(), r.mutable_totals());
    regions[cat::Region_Name(event.region())] += report.totals().confirmed();
    for (const auto& f : report.countries()) {
      if (f.confirmed() > 0) reached.insert(f.country_code());
    }
    *r.add_events() = std::move(report);
  }
  for (const auto& c : reached) r.add_countries_reached(c);
  for (const auto& [name, n] : regions) {
    auto* nc = r.add_participants_by_region();
    nc->set_name(name);
    nc->set_count(n);
  }
  for (const auto& [a, n] : affiliations) {
    auto* nc = r.add_participants_by_affiliation();
    nc->set_name(v1::Affiliation_Name(static_cast<v1::Affiliation>(a)));
    nc->set_count(n);
  }
  if (req.format() == v1::EXPORT_FORMAT_CSV) {
    std::vector<std::string> header = {"event", "title", "start_time", "event_status"};
    header.insert(header.end(), kFigureNames.begin(), kFigureNames.end());
    header.push_back("certificates_issued");
    std::string csv = std::string(kUtf8Bom) + CsvRow(header);
    for (const auto& e : r.events()) {
      std::vector<std::string> cells = {e.event(), e.title(), FormatRfc3339(Micros(e.start_time())),
                                        e.event_status()};
      auto figures = FigureCells(e.totals());
      cells.insert(cells.end(), figures.begin(), figures.end());
      cells.push_back(e.certificates_counted() ? std::to_string(e.certificates_issued()) : "");
      csv += CsvRow(cells);
    }
    auto totals = FigureCells(r.totals());
    std::vector<std::string> cells = {"TOTAL", "", "", ""};
    cells.insert(cells.end(), totals.begin(), totals.end());
    csv += CsvRow(cells) + CsvRow({}) + CsvRow({"region", "participants"});
    for (const auto& nc : r.participants_by_region()) {
      csv += CsvRow({nc.name(), std::to_string(nc.count())});
    }
    csv += CsvRow({}) + CsvRow({"affiliation", "participants"});
    for (const auto& nc : r.participants_by_affiliation()) {
      csv += CsvRow({nc.name(), std::to_string(nc.count())});
    }
    csv += CsvRow({}) + CsvRow({"countries_reached", std::to_string(r.countries_reached_size())});
    resp->set_csv(csv);
  }
  return Status::Ok();
}

std::string Registrations::CsvHeader() {
  return std::string(kUtf8Bom) +
         CsvRow({"registration",       "event",        "status",           "waitlist_position",
                 "given_name",         "family_name",  "certificate_name", "email",
                 "country_code",       "organisation", "affiliation",      "job_title",
                 "preferred_language", "time_zone",    "attended_minutes", "recording_consent",
                 "rejection_reason",   "erased",       "create_time",      "update_time"});
}

std::string Registrations::CsvRowOf(const v1::Registration& r) {
  const auto& p = r.participant();
  return CsvRow({r.name(),
                 r.event(),
                 v1::RegistrationStatus_Name(r.status()),
                 std::to_string(r.waitlist_position()),
                 p.given_name(),
                 p.family_name(),
                 p.certificate_name(),
                 p.email(),
                 p.country_code(),
                 p.organisation(),
                 v1::Affiliation_Name(p.affiliation()),
                 p.job_title(),
                 p.preferred_language(),
                 p.time_zone(),
                 std::to_string(r.attended_minutes()),
                 p.recording_consent() ? "yes" : "no",
                 r.rejection_reason(),
                 r.erased() ? "yes" : "no",
                 FormatRfc3339(Micros(r.create_time())),
                 FormatRfc3339(Micros(r.update_time()))});
}

StatusOr<catalogue::v1::Event> Registrations::EventOfRegistration(const std::string& id) {
  ECD_ASSIGN_OR_RETURN(auto reg, d_.repo.Get(id));
  auto event = d_.catalogue.GetEvent(IdOf(reg.event()));
  if (!event.ok() && event.status().code() == Code::kNotFound) {
    return Status::FailedPrecondition("EVENT_NOT_FOUND", reg.event() + " no longer exists");
  }
  return event;
}

StatusOr<std::vector<v1::Registration>> Registrations::ExportPage(
    const std::string& event_id, const std::optional<Cursor>& after, int limit) {
  ListFilter f;
  f.event_id = event_id;
  return d_.repo.List(f, after, limit);
}

}  // namespace ecd::registration
