#include "services/registration/validation.hpp"

#include <algorithm>

#include "common/countries.hpp"
#include "common/crypto.hpp"
#include "common/email.hpp"
#include "common/resource_name.hpp"
#include "common/text.hpp"
#include "common/time.hpp"
#include "services/registration/attendance.hpp"

namespace ecd::registration {
namespace {

Status Text(const std::string& value, const std::string& field, size_t min, size_t max) {
  if (value.size() < min) return Status::InvalidArgument(field, "must not be empty");
  if (value.size() > max) {
    return Status::InvalidArgument(field, "must be at most " + std::to_string(max) + " bytes");
  }
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) {
      return Status::InvalidArgument(field, "must not contain control characters");
    }
  }
  return Status::Ok();
}

}  // namespace

StatusOr<std::string> ParseEventName(std::string_view name, std::string_view field) {
  return ParseResourceName(name, "events", field);
}

StatusOr<std::string> ParseRegistrationName(std::string_view name, std::string_view field) {
  return ParseResourceName(name, "registrations", field);
}

v1::RegisterRequest NormaliseRegisterRequest(const v1::RegisterRequest& req) {
  v1::RegisterRequest out = req;
  auto* p = out.mutable_participant();
  // Invalid UTF-8 stays as it came, for the rules to refuse it by name.
  for (std::string* text :
       {p->mutable_given_name(), p->mutable_family_name(), p->mutable_certificate_name(),
        p->mutable_organisation(), p->mutable_job_title()}) {
    if (IsValidUtf8(*text)) *text = Nfc(*text);
  }
  if (auto email = CanonicalEmail(p->email(), "participant.email"); email.ok()) {
    p->set_email(*email);  // else left for the rules to refuse by name
  }
  if (auto zone = TimeZone::Find(p->time_zone())) p->set_time_zone(zone->name());
  return out;
}

// Every rule is checked: the answer lists every invalid field at once.
Status ValidateRegisterRequest(const v1::RegisterRequest& req) {
  Violations v;
  auto bad = [&](const char* field, const char* why) {
    v.Add(Status::InvalidArgument(field, why));
  };
  v.Add(ParseEventName(req.event(), "event").status());
  if (req.request_id().empty()) {
    bad("request_id", "is required");
  } else if (Status text = Text(req.request_id(), "request_id", 1, 128); !text.ok()) {
    v.Add(text);
  } else if (req.request_id().find(' ') != std::string::npos) {
    bad("request_id", "must not contain spaces");
  }
  const auto& p = req.participant();
  const TextRule name{TextKind::kName, 100, true};
  v.Add(CheckText(p.given_name(), "participant.given_name", name));
  v.Add(CheckText(p.family_name(), "participant.family_name", name));
  v.Add(CheckText(p.certificate_name(), "participant.certificate_name",
                  {TextKind::kName, 200, false}));
  v.Add(CanonicalEmail(p.email(), "participant.email").status());
  if (!IsIsoCountry(p.country_code())) {
    bad("participant.country_code", "must be an ISO 3166-1 alpha-2 code like NG");
  }
  v.Add(CheckText(p.organisation(), "participant.organisation", {TextKind::kLine, 200, false}));
  if (p.affiliation() == v1::AFFILIATION_UNSPECIFIED || !v1::Affiliation_IsValid(p.affiliation())) {
    bad("participant.affiliation", "must be one of the Affiliation values");
  }
  v.Add(CheckText(p.job_title(), "participant.job_title", {TextKind::kLine, 200, false}));
  if (p.preferred_language() != "en" && p.preferred_language() != "fr" &&
      p.preferred_language() != "es") {
    bad("participant.preferred_language", "must be en, fr or es");
  }
  if (!TimeZone::Find(p.time_zone())) {
    bad("participant.time_zone", "must be an IANA time zone like Africa/Lagos");
  }
  if (!p.privacy_consent()) {
    bad("participant.privacy_consent", "consent to the privacy notice is required");
  }
  return v.status();
}

Status CheckRegistrationOpen(const StatusOr<EventPtr>& fetched, const v1::RegisterRequest& req,
                             int64_t now) {
  if (!fetched.ok()) {
    if (fetched.status().code() == Code::kNotFound) {
      return Status(Code::kNotFound, "EVENT_NOT_FOUND", req.event() + " not found")
          .With("field", "event");
    }
    return fetched.status();
  }
  const catalogue::v1::Event* event = fetched->get();
  if (event->status() != catalogue::v1::EVENT_STATUS_PUBLISHED) {
    return Status::FailedPrecondition("EVENT_NOT_OPEN",
                                      "the event is not open for registration (" +
                                          catalogue::v1::EventStatus_Name(event->status()) + ")");
  }
  if (event->has_registration_open_time() && now < Micros(event->registration_open_time())) {
    return Status::FailedPrecondition("REGISTRATION_NOT_OPEN_YET",
                                      "registration has not opened yet");
  }
  const int64_t close = event->has_registration_close_time()
                            ? Micros(event->registration_close_time())
                            : Micros(event->start_time());
  if (now >= close) {
    return Status::FailedPrecondition("REGISTRATION_CLOSED", "registration is closed");
  }
  const auto& invited = event->invited_countries();
  if (std::find(invited.begin(), invited.end(), req.participant().country_code()) ==
      invited.end()) {
    return Status::FailedPrecondition("COUNTRY_NOT_INVITED", req.participant().country_code() +
                                                                 " is not invited to this event")
        .With("field", "participant.country_code");
  }
  return Status::Ok();
}

}  // namespace ecd::registration
