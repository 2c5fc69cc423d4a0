#include "services/catalogue/validation.hpp"

#include <set>

#include "common/countries.hpp"
#include "common/crypto.hpp"
#include "common/text.hpp"
#include "common/time.hpp"

namespace ecd::catalogue {
namespace {

// 2000-01-01 .. 2100-01-01: anything outside is a mistake, not a webinar.
constexpr int64_t kMinSeconds = 946684800;
constexpr int64_t kMaxSeconds = 4102444800;

// The platform's text rule (common/text.hpp): one line, `min` 1 means required.
Status Text(const std::string& value, const std::string& field, size_t min, size_t max) {
  return CheckText(value, field, {TextKind::kLine, max, min > 0});
}

// Descriptions and notices: line breaks and tabs allowed.
Status LongText(const std::string& value, const std::string& field, size_t max) {
  return CheckText(value, field, {TextKind::kMultiLine, max, false});
}

Status TextList(const google::protobuf::RepeatedPtrField<std::string>& items,
                const std::string& field, int max_items, size_t max_len) {
  if (items.size() > max_items) {
    return Status::InvalidArgument(field, "at most " + std::to_string(max_items) + " entries");
  }
  for (int i = 0; i < items.size(); ++i) {
    ECD_RETURN_IF_ERROR(Text(items[i], field + "[" + std::to_string(i) + "]", 1, max_len));
  }
  return Status::Ok();
}

Status Url(const std::string& value, const std::string& field, bool required) {
  if (value.empty()) {
    return required ? Status::InvalidArgument(field, "must not be empty") : Status::Ok();
  }
  ECD_RETURN_IF_ERROR(Text(value, field, 1, 2048));
  if (value.rfind("https://", 0) != 0 && value.rfind("http://", 0) != 0) {
    return Status::InvalidArgument(field, "must be an http:// or https:// URL");
  }
  if (value.find_first_of(" \n\t") != std::string::npos) {
    return Status::InvalidArgument(field, "must not contain spaces");
  }
  return Status::Ok();
}

Status Time(const google::protobuf::Timestamp& t, const std::string& field) {
  if (t.seconds() < kMinSeconds || t.seconds() >= kMaxSeconds) {
    return Status::InvalidArgument(field, "must be between 2000-01-01 and 2100-01-01");
  }
  if (t.nanos() < 0 || t.nanos() > 999999999) {
    return Status::InvalidArgument(field, "nanos out of range");
  }
  return Status::Ok();
}

}  // namespace

StatusOr<std::pair<std::string, std::string>> ParseMaterialName(std::string_view name,
                                                                std::string_view field) {
  auto bad = [&] {
    return Status::InvalidArgument(std::string(field),
                                   "must look like events/{uuid}/materials/{uuid}");
  };
  constexpr std::string_view kMid = "/materials/";
  auto mid = name.find(kMid);
  if (mid == std::string_view::npos) return bad();
  auto event = ParseResourceName(name.substr(0, mid), "events", field);
  if (!event.ok()) return bad();
  std::string_view material = name.substr(mid + kMid.size());
  if (!IsUuid(material)) return bad();
  return std::make_pair(*event, std::string(material));
}

Status ValidateRequestId(std::string_view request_id) {
  if (request_id.size() > 128) return Status::InvalidArgument("request_id", "at most 128 bytes");
  for (unsigned char c : request_id) {
    if (c <= 0x20 || c >= 0x7f) {
      return Status::InvalidArgument("request_id", "printable ASCII without spaces only");
    }
  }
  return Status::Ok();
}

Status ValidateSeries(const v1::Series& s) {
  Violations v;
  v.Add(Text(s.title(), "series.title", 1, 200));
  v.Add(LongText(s.description(), "series.description", 20000));
  v.Add(TextList(s.organisers(), "series.organisers", 20, 200));
  v.Add(LongText(s.funding_notice(), "series.funding_notice", 2000));
  v.Add(TextList(s.topics(), "series.topics", 20, 300));
  return v.status();
}

void ApplyEventDefaults(v1::Event* e) {
  if (e->participants_per_country() == 0) {
    e->set_participants_per_country(kDefaultParticipantsPerCountry);
  }
  if (e->certificate_threshold_percent() == 0) {
    e->set_certificate_threshold_percent(kDefaultCertificateThreshold);
  }
  if (e->info_kit_lead_hours() == 0) e->set_info_kit_lead_hours(kDefaultInfoKitLeadHours);
  if (e->approval_mode() == v1::APPROVAL_MODE_UNSPECIFIED) {
    e->set_approval_mode(v1::APPROVAL_MODE_AUTOMATIC);
  }
  if (e->recording().state() == v1::RECORDING_STATE_UNSPECIFIED) {
    e->mutable_recording()->set_state(v1::RECORDING_STATE_NOT_RECORDED);
  }
}

// Every rule is checked: the answer lists every invalid field at once.
Status ValidateEvent(const v1::Event& e) {
  Violations v;
  auto bad = [&](const std::string& field, const std::string& why) {
    v.Add(Status::InvalidArgument(field, why));
  };
  if (!e.series().empty()) {
    v.Add(ParseResourceName(e.series(), "series", "event.series").status());
  }
  v.Add(Text(e.title(), "event.title", 1, 200));
  v.Add(LongText(e.description(), "event.description", 20000));
  if (e.region() == v1::REGION_UNSPECIFIED || !v1::Region_IsValid(e.region())) {
    bad("event.region", "must be one of the Region values");
  }
  if (!IsLanguageCode(e.language_code())) {
    bad("event.language_code", "must be an ISO 639-1 code like en");
  }
  // The slot: each time on its own, then how they relate (only when both are valid).
  Status start_ok = e.has_start_time() ? Time(e.start_time(), "event.start_time")
                                       : Status::InvalidArgument("event.start_time", "is required");
  Status end_ok = e.has_end_time() ? Time(e.end_time(), "event.end_time")
                                   : Status::InvalidArgument("event.end_time", "is required");
  v.Add(start_ok);
  v.Add(end_ok);
  const int64_t start = Micros(e.start_time()), end = Micros(e.end_time());
  const bool slot_ok = start_ok.ok() && end_ok.ok() && end > start;
  if (start_ok.ok() && end_ok.ok()) {
    if (end <= start) {
      bad("event.end_time", "must be after start_time");
    } else if (end - start > int64_t{7} * 24 * 3600 * 1000000) {
      bad("event.end_time", "the slot must be at most 7 days");
    }
  }
  if (e.duration_minutes() <= 0) {
    bad("event.duration_minutes", "must be positive");
  } else if (slot_ok && int64_t{e.duration_minutes()} * 60 * 1000000 > end - start) {
    bad("event.duration_minutes", "must fit in the slot");
  }
  v.Add(Text(e.platform(), "event.platform", 0, 100));
  v.Add(Url(e.join_url(), "event.join_url", false));
  if (e.agenda_size() > 50) {
    bad("event.agenda", "at most 50 segments");
  } else {
    for (int i = 0; i < e.agenda_size(); ++i) {
      const auto& seg = e.agenda(i);
      const std::string f = "event.agenda[" + std::to_string(i) + "]";
      v.Add(Text(seg.title(), f + ".title", 1, 300));
      v.Add(Text(seg.speaker(), f + ".speaker", 0, 200));
      if (seg.presentation_minutes() < 0 || seg.presentation_minutes() > kMaxPresentationMinutes) {
        bad(f + ".presentation_minutes", "must be between 0 and 10");
      }
      if (seg.discussion_minutes() < 0 || seg.discussion_minutes() > e.duration_minutes()) {
        bad(f + ".discussion_minutes", "must be between 0 and the duration");
      }
    }
  }
  v.Add(TextList(e.topics(), "event.topics", 20, 300));
  if (e.invited_countries_size() > 300) {
    bad("event.invited_countries", "at most 300 countries");
  } else {
    std::set<std::string> seen;
    for (int i = 0; i < e.invited_countries_size(); ++i) {
      const std::string f = "event.invited_countries[" + std::to_string(i) + "]";
      if (!IsIsoCountry(e.invited_countries(i))) {
        bad(f, "'" + Escaped(e.invited_countries(i), 8) + "' is not an ISO 3166-1 alpha-2 code");
      } else if (!seen.insert(e.invited_countries(i)).second) {
        bad(f, "duplicate country");
      }
    }
  }
  if (e.participants_per_country() < 1 || e.participants_per_country() > 1000) {
    bad("event.participants_per_country", "must be between 1 and 1000");
  }
  Status open_ok = e.has_registration_open_time()
                       ? Time(e.registration_open_time(), "event.registration_open_time")
                       : Status::Ok();
  v.Add(open_ok);
  if (e.has_registration_close_time()) {
    Status close_ok = Time(e.registration_close_time(), "event.registration_close_time");
    v.Add(close_ok);
    if (close_ok.ok() && end_ok.ok() && Micros(e.registration_close_time()) > end) {
      bad("event.registration_close_time", "must not be after the end of the event");
    } else if (close_ok.ok() && open_ok.ok() && e.has_registration_open_time() &&
               Micros(e.registration_close_time()) <= Micros(e.registration_open_time())) {
      bad("event.registration_close_time", "must be after registration_open_time");
    }
  }
  if (!v1::EmailVerification_IsValid(e.email_verification())) {
    bad("event.email_verification", "must be one of the EmailVerification values");
  }
  if (!v1::ApprovalMode_IsValid(e.approval_mode()) ||
      e.approval_mode() == v1::APPROVAL_MODE_UNSPECIFIED) {
    bad("event.approval_mode", "must be one of the ApprovalMode values");
  }
  if (e.certificate_threshold_percent() < 1 || e.certificate_threshold_percent() > 100) {
    bad("event.certificate_threshold_percent", "must be between 1 and 100");
  }
  if (e.info_kit_lead_hours() < 1 || e.info_kit_lead_hours() > 2160) {
    bad("event.info_kit_lead_hours", "must be between 1 and 2160");
  }
  const auto state = e.recording().state();
  if (!v1::RecordingState_IsValid(state) || state == v1::RECORDING_STATE_UNSPECIFIED) {
    bad("event.recording.state", "must be one of the RecordingState values");
  }
  v.Add(Url(e.recording().url(), "event.recording.url", state == v1::RECORDING_STATE_PUBLISHED));
  if (!v1::EventStatus_IsValid(e.status())) {
    bad("event.status", "must be one of the EventStatus values");
  }
  return v.status();
}

const std::vector<std::string>& UpdatablePaths() {
  static const std::vector<std::string> kPaths = {"series",
                                                  "title",
                                                  "description",
                                                  "region",
                                                  "language_code",
                                                  "start_time",
                                                  "end_time",
                                                  "duration_minutes",
                                                  "platform",
                                                  "join_url",
                                                  "agenda",
                                                  "topics",
                                                  "invited_countries",
                                                  "participants_per_country",
                                                  "registration_open_time",
                                                  "registration_close_time",
                                                  "approval_mode",
                                                  "certificate_threshold_percent",
                                                  "info_kit_lead_hours",
                                                  "recording",
                                                  "recording.state",
                                                  "recording.url",
                                                  "email_verification"};
  return kPaths;
}

Status ApplyUpdateMask(const v1::Event& patch, const std::vector<std::string>& paths,
                       v1::Event* target) {
  const auto* desc = v1::Event::descriptor();
  const auto* refl = v1::Event::GetReflection();
  for (const auto& p : paths) {
    if (p == "recording.state") {
      target->mutable_recording()->set_state(patch.recording().state());
      continue;
    }
    if (p == "recording.url") {
      target->mutable_recording()->set_url(patch.recording().url());
      continue;
    }
    const auto* field = desc->FindFieldByName(p);
    refl->ClearField(target, field);
    if (field->is_repeated()) {
      for (int i = 0; i < refl->FieldSize(patch, field); ++i) {
        if (field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_STRING) {
          refl->AddString(target, field, refl->GetRepeatedString(patch, field, i));
        } else {
          refl->AddMessage(target, field)->CopyFrom(refl->GetRepeatedMessage(patch, field, i));
        }
      }
    } else if (field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
      if (refl->HasField(patch, field)) {
        refl->MutableMessage(target, field)->CopyFrom(refl->GetMessage(patch, field));
      }
    } else {
      switch (field->cpp_type()) {
        case google::protobuf::FieldDescriptor::CPPTYPE_STRING:
          refl->SetString(target, field, refl->GetString(patch, field));
          break;
        case google::protobuf::FieldDescriptor::CPPTYPE_INT32:
          refl->SetInt32(target, field, refl->GetInt32(patch, field));
          break;
        case google::protobuf::FieldDescriptor::CPPTYPE_ENUM:
          refl->SetEnumValue(target, field, refl->GetEnumValue(patch, field));
          break;
        default:
          return Status::Internal("unsupported field type in update mask");
      }
    }
  }
  return Status::Ok();
}

Status ValidateMaterial(const v1::Material& m, const std::string& content) {
  Violations v;
  if (m.kind() == v1::MATERIAL_KIND_UNSPECIFIED || !v1::MaterialKind_IsValid(m.kind())) {
    v.Add(Status::InvalidArgument("material.kind", "must be one of the MaterialKind values"));
  }
  v.Add(Text(m.title(), "material.title", 1, 300));
  Status filename = Text(m.filename(), "material.filename", 0, 255);
  if (filename.ok() && m.filename().find_first_of("/\\") != std::string::npos) {
    filename = Status::InvalidArgument("material.filename", "must not contain a path");
  }
  v.Add(filename);
  v.Add(Text(m.content_type(), "material.content_type", 0, 255));
  if (static_cast<int64_t>(content.size()) > kMaxMaterialBytes) {
    v.Add(Status::InvalidArgument("content", "must be at most 20 MiB (20971520 bytes)"));
  } else if (content.empty() && m.external_uri().empty()) {
    v.Add(Status::InvalidArgument("content", "give the bytes or material.external_uri"));
  } else if (!content.empty() && !m.external_uri().empty()) {
    v.Add(Status::InvalidArgument("material.external_uri",
                                  "give either the bytes or an external URI, not both"));
  }
  v.Add(Url(m.external_uri(), "material.external_uri", false));
  return v.status();
}

}  // namespace ecd::catalogue
