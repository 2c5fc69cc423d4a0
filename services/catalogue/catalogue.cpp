#include "services/catalogue/catalogue.hpp"

#include <google/protobuf/util/time_util.h>

#include <algorithm>

#include "common/countries.hpp"
#include "common/crypto.hpp"
#include "common/event_lifecycle.hpp"
#include "common/field_mask.hpp"
#include "common/paging.hpp"
#include "common/resource_name.hpp"
#include "common/text.hpp"
#include "common/time.hpp"
#include "services/catalogue/validation.hpp"

namespace ecd::catalogue {
namespace {

constexpr Role kAdmin = Role::kAdmin, kFrontend = Role::kFrontend,
               kIntegration = Role::kIntegration, kService = Role::kService;

StatusOr<std::optional<Cursor>> OpenPage(const ListPaging& paging, const std::string& token) {
  ECD_ASSIGN_OR_RETURN(auto cursor, paging.Open(token));
  if (!cursor.has_value()) return std::optional<Cursor>();
  return std::optional<Cursor>(Cursor{cursor->micros, cursor->id});
}

// Adds `bytes` (a serialised message) as field `number` of `msg` without parsing them: kept as an
// unknown field, they go on the wire as they are, exactly as the field itself would.
void AddSerialised(google::protobuf::Message* msg, int number, const std::string& bytes) {
  msg->GetReflection()->MutableUnknownFields(msg)->AddLengthDelimited(number, bytes);
}

}  // namespace

const RoleTable& CatalogueRoles() {
  static const RoleTable kTable = {
      {"CreateSeries", {kAdmin}},
      {"GetSeries", {kAdmin, kService, kFrontend, kIntegration}},
      {"ListSeries", {kAdmin, kService, kFrontend, kIntegration}},
      {"CreateEvent", {kAdmin}},
      {"GetEvent", {kAdmin, kService, kFrontend, kIntegration}},
      {"ListEvents", {kAdmin, kService, kFrontend, kIntegration}},
      {"UpdateEvent", {kAdmin}},
      {"PublishEvent", {kAdmin}},
      {"CancelEvent", {kAdmin}},
      {"CompleteEvent", {kAdmin}},
      {"DeleteEvent", {kAdmin}},
      {"AddMaterial", {kAdmin}},
      {"ListMaterials", {kAdmin, kService, kFrontend}},
      {"DownloadMaterial", {kAdmin, kService, kFrontend}},
      {"DeleteMaterial", {kAdmin}},
  };
  return kTable;
}

Status Catalogue::CreateSeries(const CallContext&, const v1::CreateSeriesRequest& req,
                               v1::CreateSeriesResponse* resp) {
  ECD_RETURN_IF_ERROR(ValidateRequestId(req.request_id()));
  v1::Series s = req.series();
  NormaliseStrings(&s);  // texts are stored in NFC
  ECD_RETURN_IF_ERROR(ValidateSeries(s));
  s.clear_name();
  s.clear_create_time();
  auto created =
      repo_.CreateSeries(s, NewUuid(), req.request_id(), Sha256Hex(s.SerializeAsString()));
  if (!created.ok()) return created.status();
  cache_.Changed("series:" + IdOf(created->name()));
  *resp->mutable_series() = std::move(*created);
  return Status::Ok();
}

Status Catalogue::GetSeries(const CallContext&, const v1::GetSeriesRequest& req,
                            v1::GetSeriesResponse* resp) {
  ECD_ASSIGN_OR_RETURN(auto id, ParseResourceName(req.name(), "series", "name"));
  ECD_ASSIGN_OR_RETURN(auto s, cache_.GetSeries(id));
  *resp->mutable_series() = std::move(s);
  return Status::Ok();
}

Status Catalogue::ListSeries(const CallContext&, const v1::ListSeriesRequest& req,
                             v1::ListSeriesResponse* resp) {
  ECD_ASSIGN_OR_RETURN(auto size, CheckPageSize(req.page_size()));
  const ListPaging paging(tokens_, "CatalogueService/ListSeries", "");
  ECD_ASSIGN_OR_RETURN(auto after, OpenPage(paging, req.page_token()));
  ECD_ASSIGN_OR_RETURN(auto rows, cache_.ListSeries(after, size + 1));
  for (int i = 0; i < static_cast<int>(rows.size()) && i < size; ++i) {
    *resp->add_series() = (rows)[i];
  }
  if (static_cast<int>(rows.size()) > size) {
    const auto& last = resp->series(size - 1);
    resp->set_next_page_token(paging.Seal(Micros(last.create_time()), IdOf(last.name())));
  }
  return Status::Ok();
}

Status Catalogue::CreateEvent(const CallContext&, const v1::CreateEventRequest& req,
                              v1::CreateEventResponse* resp) {
  ECD_RETURN_IF_ERROR(ValidateRequestId(req.request_id()));
  v1::Event e = req.event();
  // Output-only fields are ignored, as AIP-203 asks.
  e.clear_name();
  e.clear_create_time();
  e.clear_update_time();
  e.clear_revision();
  e.set_status(v1::EVENT_STATUS_DRAFT);
  NormaliseStrings(&e);  // texts are stored in NFC
  ApplyEventDefaults(&e);
  ECD_RETURN_IF_ERROR(ValidateEvent(e));
  auto created =
      repo_.CreateEvent(e, NewUuid(), req.request_id(), Sha256Hex(e.SerializeAsString()));
  if (!created.ok()) return created.status();
  cache_.Changed("event:" + IdOf(created->name()));
  *resp->mutable_event() = std::move(*created);
  return Status::Ok();
}

StatusOr<EventCache::EventPtr> Catalogue::VisibleEvent(const CallContext& c,
                                                       const std::string& id) {
  ECD_ASSIGN_OR_RETURN(EventCache::EventPtr e, cache_.GetEvent(id));
  if (!c.privileged() && e->event.status() == v1::EVENT_STATUS_DRAFT) {
    return Status::NotFound("events/" + id);
  }
  return e;
}

Status Catalogue::GetEvent(const CallContext& c, const v1::GetEventRequest& req,
                           v1::GetEventResponse* resp) {
  ECD_ASSIGN_OR_RETURN(auto id, ParseResourceName(req.name(), "events", "name"));
  ECD_ASSIGN_OR_RETURN(const EventCache::EventPtr e, VisibleEvent(c, id));
  // GetEventResponse.event is field 1.
  AddSerialised(resp, v1::GetEventResponse::kEventFieldNumber,
                c.privileged() ? e->full : e->visible);
  return Status::Ok();
}

Status Catalogue::ListEvents(const CallContext& c, const v1::ListEventsRequest& req,
                             v1::ListEventsResponse* resp) {
  ECD_ASSIGN_OR_RETURN(auto size, CheckPageSize(req.page_size()));
  EventFilter f;
  if (!req.series().empty()) {
    ECD_ASSIGN_OR_RETURN(auto id, ParseResourceName(req.series(), "series", "series"));
    f.series_id = id;
  }
  if (!v1::Region_IsValid(req.region())) {
    return Status::InvalidArgument("region", "must be one of the Region values");
  }
  f.region = req.region();
  if (!req.language_code().empty() && !IsLanguageCode(req.language_code())) {
    return Status::InvalidArgument("language_code", "must be an ISO 639-1 code like en");
  }
  f.language_code = req.language_code();
  if (!v1::EventStatus_IsValid(req.status())) {
    return Status::InvalidArgument("status", "must be one of the EventStatus values");
  }
  f.status = req.status();
  if (req.has_start_time_from()) f.start_from_micros = Micros(req.start_time_from());
  if (req.has_start_time_to()) f.start_to_micros = Micros(req.start_time_to());
  f.include_drafts = c.privileged();
  std::string query = req.query();
  if (IsValidUtf8(query)) query = Nfc(query);
  ECD_RETURN_IF_ERROR(CheckText(query, "query", {TextKind::kLine, 200, false}));
  f.query = query;

  v1::ListEventsRequest key = req;
  key.clear_page_token();
  key.clear_page_size();
  const std::string filter_key =
      key.SerializeAsString() + (f.include_drafts ? "|drafts" : "|published");
  const ListPaging paging(tokens_, "CatalogueService/ListEvents", filter_key);
  ECD_ASSIGN_OR_RETURN(auto after, OpenPage(paging, req.page_token()));

  ECD_ASSIGN_OR_RETURN(auto rows, cache_.ListEvents(f, after, size + 1));
  for (int i = 0; i < static_cast<int>(rows.size()) && i < size; ++i) {
    AddSerialised(resp, v1::ListEventsResponse::kEventsFieldNumber,
                  c.privileged() ? rows[i]->full : rows[i]->visible);
  }
  if (static_cast<int>(rows.size()) > size) {
    const v1::Event& last = rows[size - 1]->event;
    resp->set_next_page_token(paging.Seal(Micros(last.start_time()), IdOf(last.name())));
  }
  return Status::Ok();
}

Status Catalogue::UpdateEvent(const CallContext&, const v1::UpdateEventRequest& req,
                              v1::UpdateEventResponse* resp) {
  ECD_ASSIGN_OR_RETURN(auto id, ParseResourceName(req.event().name(), "events", "event.name"));
  // Check the mask before touching the database, so bad input never waits for a lock.
  ECD_ASSIGN_OR_RETURN(
      auto paths, CheckMask({req.update_mask().paths().begin(), req.update_mask().paths().end()},
                            UpdatablePaths()));
  v1::Event patch = req.event();
  NormaliseStrings(&patch);
  // Once it is over (completed or cancelled), only what makes sense after it may change: the
  // recording (its materials have their own calls).
  const bool only_recording = std::all_of(paths.begin(), paths.end(), [](const std::string& p) {
    return p.rfind("recording", 0) == 0;
  });
  auto updated = repo_.UpdateEvent(id, [&](v1::Event& e) -> Status {
    if ((e.status() == v1::EVENT_STATUS_CANCELLED || e.status() == v1::EVENT_STATUS_COMPLETED) &&
        !only_recording) {
      return EventRefusal(
          e, now_(), e.status() == v1::EVENT_STATUS_CANCELLED ? "EVENT_CANCELLED" : "EVENT_CLOSED",
          "the event is " +
              std::string(e.status() == v1::EVENT_STATUS_COMPLETED ? "completed" : "cancelled") +
              ": only its recording (recording.state, recording.url) can change");
    }
    ECD_RETURN_IF_ERROR(ApplyUpdateMask(patch, paths, &e));
    ApplyEventDefaults(&e);
    return ValidateEvent(e);
  });
  if (!updated.ok()) return updated.status();
  cache_.Changed("event:" + id);
  *resp->mutable_event() = std::move(*updated);
  return Status::Ok();
}

StatusOr<v1::Event> Catalogue::Transition(const std::string& name, v1::EventStatus to,
                                          std::initializer_list<v1::EventStatus> from) {
  ECD_ASSIGN_OR_RETURN(auto id, ParseResourceName(name, "events", "name"));
  auto updated = repo_.UpdateEvent(id, [&](v1::Event& e) -> Status {
    if (std::find(from.begin(), from.end(), e.status()) == from.end()) {
      return Status::FailedPrecondition(
          "INVALID_STATUS_TRANSITION",
          "cannot go from " + v1::EventStatus_Name(e.status()) + " to " + v1::EventStatus_Name(to));
    }
    if (to == v1::EVENT_STATUS_PUBLISHED && e.invited_countries_size() == 0) {
      return Status::FailedPrecondition("EVENT_INCOMPLETE",
                                        "an event needs invited countries to be published");
    }
    // Completion opens certificates: it must rest on a webinar that has taken place.
    if (to == v1::EVENT_STATUS_COMPLETED) ECD_RETURN_IF_ERROR(RequireEnded(e, now_()));
    e.set_status(to);
    return Status::Ok();
  });
  if (updated.ok()) cache_.Changed("event:" + id);
  return updated;
}

Status Catalogue::PublishEvent(const CallContext&, const v1::PublishEventRequest& req,
                               v1::PublishEventResponse* resp) {
  ECD_ASSIGN_OR_RETURN(
      auto e, Transition(req.name(), v1::EVENT_STATUS_PUBLISHED, {v1::EVENT_STATUS_DRAFT}));
  *resp->mutable_event() = std::move(e);
  return Status::Ok();
}

Status Catalogue::CancelEvent(const CallContext&, const v1::CancelEventRequest& req,
                              v1::CancelEventResponse* resp) {
  ECD_ASSIGN_OR_RETURN(auto e, Transition(req.name(), v1::EVENT_STATUS_CANCELLED,
                                          {v1::EVENT_STATUS_DRAFT, v1::EVENT_STATUS_PUBLISHED}));
  *resp->mutable_event() = std::move(e);
  return Status::Ok();
}

Status Catalogue::CompleteEvent(const CallContext&, const v1::CompleteEventRequest& req,
                                v1::CompleteEventResponse* resp) {
  ECD_ASSIGN_OR_RETURN(
      auto e, Transition(req.name(), v1::EVENT_STATUS_COMPLETED, {v1::EVENT_STATUS_PUBLISHED}));
  *resp->mutable_event() = std::move(e);
  return Status::Ok();
}

Status Catalogue::DeleteEvent(const CallContext&, const v1::DeleteEventRequest& req,
                              v1::DeleteEventResponse*) {
  ECD_ASSIGN_OR_RETURN(auto id, ParseResourceName(req.name(), "events", "name"));
  ECD_RETURN_IF_ERROR(repo_.DeleteDraft(id));
  cache_.Changed("event:" + id);
  return Status::Ok();
}

Status Catalogue::CheckMaterialsVisible(const CallContext& c, const std::string& event_id) {
  return VisibleEvent(c, event_id).status();
}

Status Catalogue::AddMaterial(const CallContext&, const v1::AddMaterialRequest& req,
                              v1::AddMaterialResponse* resp) {
  ECD_ASSIGN_OR_RETURN(auto event_id, ParseResourceName(req.parent(), "events", "parent"));
  v1::Material m = req.material();
  NormaliseStrings(&m);
  ECD_RETURN_IF_ERROR(ValidateMaterial(m, req.content()));
  m.clear_name();
  m.clear_create_time();
  m.set_size_bytes(static_cast<int64_t>(req.content().size()));
  m.set_sha256(req.content().empty() ? "" : Sha256Hex(req.content()));
  ECD_ASSIGN_OR_RETURN(auto added, repo_.AddMaterial(event_id, NewUuid(), m, req.content()));
  cache_.Changed("materials:" + event_id);
  *resp->mutable_material() = std::move(added);
  return Status::Ok();
}

Status Catalogue::ListMaterials(const CallContext& c, const v1::ListMaterialsRequest& req,
                                v1::ListMaterialsResponse* resp) {
  ECD_ASSIGN_OR_RETURN(auto event_id, ParseResourceName(req.parent(), "events", "parent"));
  ECD_RETURN_IF_ERROR(CheckMaterialsVisible(c, event_id));
  ECD_ASSIGN_OR_RETURN(auto list, cache_.ListMaterials(event_id));
  for (auto& m : list) *resp->add_materials() = std::move(m);
  return Status::Ok();
}

StatusOr<StoredMaterial> Catalogue::DownloadMaterial(const CallContext& c,
                                                     const v1::DownloadMaterialRequest& req) {
  ECD_ASSIGN_OR_RETURN(auto ids, ParseMaterialName(req.name(), "name"));
  ECD_RETURN_IF_ERROR(CheckMaterialsVisible(c, ids.first));
  auto m = repo_.GetMaterial(ids.first, ids.second, true);
  if (!m.ok()) return m.status();
  if (!m->material.external_uri().empty()) {
    return Status::FailedPrecondition("MATERIAL_IS_EXTERNAL",
                                      "this material is a link: " + m->material.external_uri());
  }
  return m;
}

Status Catalogue::DeleteMaterial(const CallContext&, const v1::DeleteMaterialRequest& req,
                                 v1::DeleteMaterialResponse*) {
  ECD_ASSIGN_OR_RETURN(auto ids, ParseMaterialName(req.name(), "name"));
  ECD_RETURN_IF_ERROR(repo_.DeleteMaterial(ids.first, ids.second));
  cache_.Changed("materials:" + ids.first);
  return Status::Ok();
}

}  // namespace ecd::catalogue
