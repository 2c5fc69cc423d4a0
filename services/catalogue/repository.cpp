#include "services/catalogue/repository.hpp"

#include "common/pg.hpp"
#include "common/time.hpp"
#include "services/catalogue/sql.hpp"

namespace ecd::catalogue {
namespace {

using google::protobuf::Timestamp;

std::string OptMicros(bool has, const Timestamp& t) {
  return has ? std::to_string(Micros(t)) : std::string();
}

std::vector<std::string> List(const google::protobuf::RepeatedPtrField<std::string>& items) {
  return {items.begin(), items.end()};
}

v1::Series SeriesFromRow(const pqxx::row& r) {
  v1::Series s;
  s.set_name("series/" + r[0].as<std::string>());
  s.set_title(r[1].as<std::string>());
  s.set_description(r[2].as<std::string>());
  for (auto& o : FromPgArray(r[3])) s.add_organisers(o);
  s.set_funding_notice(r[4].as<std::string>());
  for (auto& t : FromPgArray(r[5])) s.add_topics(t);
  SetMicros(r[6].as<int64_t>(), s.mutable_create_time());
  return s;
}

v1::Event EventFromRow(const pqxx::row& r) {
  v1::Event e;
  e.set_name("events/" + r[0].as<std::string>());
  if (auto series = r[1].as<std::string>(); !series.empty()) e.set_series("series/" + series);
  e.set_title(r[2].as<std::string>());
  e.set_description(r[3].as<std::string>());
  e.set_region(static_cast<v1::Region>(r[4].as<int>()));
  e.set_language_code(r[5].as<std::string>());
  SetMicros(r[6].as<int64_t>(), e.mutable_start_time());
  SetMicros(r[7].as<int64_t>(), e.mutable_end_time());
  e.set_duration_minutes(r[8].as<int>());
  e.set_platform(r[9].as<std::string>());
  e.set_join_url(r[10].as<std::string>());
  for (auto& t : FromPgArray(r[11])) e.add_topics(t);
  for (auto& c : FromPgArray(r[12])) e.add_invited_countries(c);
  e.set_participants_per_country(r[13].as<int>());
  if (auto v = r[14].as<std::string>(); !v.empty()) {
    SetMicros(std::stoll(v), e.mutable_registration_open_time());
  }
  if (auto v = r[15].as<std::string>(); !v.empty()) {
    SetMicros(std::stoll(v), e.mutable_registration_close_time());
  }
  e.set_approval_mode(static_cast<v1::ApprovalMode>(r[16].as<int>()));
  e.set_certificate_threshold_percent(r[17].as<int>());
  e.set_info_kit_lead_hours(r[18].as<int>());
  e.mutable_recording()->set_state(static_cast<v1::RecordingState>(r[19].as<int>()));
  e.mutable_recording()->set_url(r[20].as<std::string>());
  e.set_status(static_cast<v1::EventStatus>(r[21].as<int>()));
  e.set_revision(r[22].as<int64_t>());
  SetMicros(r[23].as<int64_t>(), e.mutable_create_time());
  SetMicros(r[24].as<int64_t>(), e.mutable_update_time());
  auto titles = FromPgArray(r[25]), speakers = FromPgArray(r[26]),
       presentation = FromPgArray(r[27]), discussion = FromPgArray(r[28]);
  for (size_t i = 0; i < titles.size(); ++i) {
    auto* seg = e.add_agenda();
    seg->set_title(titles[i]);
    seg->set_speaker(speakers[i]);
    seg->set_presentation_minutes(std::stoi(presentation[i]));
    seg->set_discussion_minutes(std::stoi(discussion[i]));
  }
  e.set_email_verification(static_cast<v1::EmailVerification>(r[29].as<int>()));
  return e;
}

std::string IdOfSeries(const std::string& name) {
  return name.empty() ? std::string() : name.substr(name.find('/') + 1);
}

void WriteAgenda(pqxx::work& tx, const std::string& id, const v1::Event& e) {
  Exec(tx, sql::kDeleteAgenda, id);
  for (int i = 0; i < e.agenda_size(); ++i) {
    const auto& seg = e.agenda(i);
    Exec(tx, sql::kInsertSegment, id, i, seg.title(), seg.speaker(), seg.presentation_minutes(),
         seg.discussion_minutes());
  }
}

pqxx::result WriteEvent(pqxx::work& tx, const SqlStatement& statement, const std::string& id,
                        const v1::Event& e, const std::string& request_id,
                        const std::string& request_hash, bool insert) {
  auto run = [&](auto&&... tail) {
    return Exec(tx, statement, id, IdOfSeries(e.series()), e.title(), e.description(),
                static_cast<int>(e.region()), e.language_code(), Micros(e.start_time()),
                Micros(e.end_time()), e.duration_minutes(), e.platform(), e.join_url(),
                ToPgArray(List(e.topics())), ToPgArray(List(e.invited_countries())),
                e.participants_per_country(),
                OptMicros(e.has_registration_open_time(), e.registration_open_time()),
                OptMicros(e.has_registration_close_time(), e.registration_close_time()),
                static_cast<int>(e.approval_mode()), e.certificate_threshold_percent(),
                e.info_kit_lead_hours(), static_cast<int>(e.recording().state()),
                e.recording().url(), static_cast<int>(e.status()),
                static_cast<int>(e.email_verification()), tail...);
  };
  return insert ? run(request_id, request_hash) : run();
}

std::optional<v1::Event> ReadEvent(pqxx::transaction_base& tx, const std::string& id,
                                   bool for_update) {
  auto rows = Exec(tx, for_update ? sql::kGetEventForUpdate : sql::kGetEvent, id);
  if (rows.empty()) return std::nullopt;
  return EventFromRow(rows[0]);
}

v1::Material MaterialFromRow(const pqxx::row& r) {
  v1::Material m;
  m.set_name("events/" + r[1].as<std::string>() + "/materials/" + r[0].as<std::string>());
  m.set_kind(static_cast<v1::MaterialKind>(r[2].as<int>()));
  m.set_title(r[3].as<std::string>());
  m.set_filename(r[4].as<std::string>());
  m.set_content_type(r[5].as<std::string>());
  m.set_size_bytes(r[6].as<int64_t>());
  m.set_sha256(r[7].as<std::string>());
  m.set_external_uri(r[8].as<std::string>());
  SetMicros(r[9].as<int64_t>(), m.mutable_create_time());
  return m;
}

// What an earlier create with the same request id made: its id when the request was the same,
// REQUEST_ID_REUSED when it was not.
StatusOr<std::optional<std::string>> PriorRequest(pqxx::work& tx, const SqlStatement& statement,
                                                  const std::string& request_id,
                                                  const std::string& request_hash) {
  if (request_id.empty()) return std::optional<std::string>();
  auto rows = Exec(tx, statement, request_id);
  if (rows.empty()) return std::optional<std::string>();
  if (rows[0][1].as<std::string>() != request_hash) {
    return Status::FailedPrecondition("REQUEST_ID_REUSED",
                                      "request_id was already used for a different request");
  }
  return std::optional<std::string>(rows[0][0].as<std::string>());
}

}  // namespace

Repository::Repository(PgPool& pool) : pool_(pool) {}

StatusOr<v1::Series> Repository::CreateSeries(const v1::Series& s, const std::string& id,
                                              const std::string& request_id,
                                              const std::string& request_hash) {
  v1::Series out;
  Status st = pool_.Transact([&](pqxx::work& tx) -> Status {
    ECD_ASSIGN_OR_RETURN(auto prior,
                         PriorRequest(tx, sql::kSeriesByRequestId, request_id, request_hash));
    std::string use_id = prior.value_or(id);
    if (!prior.has_value()) {
      Exec(tx, sql::kInsertSeries, use_id, s.title(), s.description(),
           ToPgArray(List(s.organisers())), s.funding_notice(), ToPgArray(List(s.topics())),
           request_id, request_hash);
    }
    auto rows = Exec(tx, sql::kGetSeries, use_id);
    out = SeriesFromRow(rows[0]);
    return Status::Ok();
  });
  // Two retries of one request racing: the loser's insert hits the unique request id; now the
  // winner's row answers.
  if (st.code() == Code::kAlreadyExists && !request_id.empty()) {
    return CreateSeries(s, id, request_id, request_hash);
  }
  if (!st.ok()) return st;
  return out;
}

StatusOr<v1::Series> Repository::GetSeries(const std::string& id) {
  std::optional<v1::Series> out;
  Status st = pool_.Read([&](pqxx::transaction_base& tx) -> Status {
    auto rows = Exec(tx, sql::kGetSeries, id);
    if (!rows.empty()) out = SeriesFromRow(rows[0]);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  if (!out) return Status::NotFound("series/" + id);
  return *out;
}

StatusOr<std::vector<v1::Series>> Repository::ListSeries(const std::optional<Cursor>& after,
                                                         int limit) {
  std::vector<v1::Series> out;
  Status st = pool_.Read([&](pqxx::transaction_base& tx) -> Status {
    auto rows = Exec(tx, sql::kListSeries, after ? std::to_string(after->micros) : std::string(),
                     after ? after->id : std::string(), limit);
    for (const auto& r : rows) out.push_back(SeriesFromRow(r));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

StatusOr<v1::Event> Repository::CreateEvent(const v1::Event& e, const std::string& id,
                                            const std::string& request_id,
                                            const std::string& request_hash) {
  std::optional<v1::Event> out;
  Status st = pool_.Transact([&](pqxx::work& tx) -> Status {
    ECD_ASSIGN_OR_RETURN(auto prior,
                         PriorRequest(tx, sql::kEventByRequestId, request_id, request_hash));
    std::string use_id = prior.value_or(id);
    if (!prior.has_value()) {
      if (!e.series().empty()) {
        auto found = Exec(tx, sql::kSeriesExists, IdOfSeries(e.series()));
        if (found.empty()) return Status::NotFound(e.series());
      }
      auto inserted = WriteEvent(tx, sql::kInsertEvent, use_id, e, request_id, request_hash, true);
      if (inserted.affected_rows() == 0) {
        return Status::AlreadyExists("ALREADY_EXISTS", "events/" + use_id + " already exists");
      }
      WriteAgenda(tx, use_id, e);
    }
    out = ReadEvent(tx, use_id, false);
    return Status::Ok();
  });
  if (st.code() == Code::kAlreadyExists && !request_id.empty()) {
    return CreateEvent(e, id, request_id, request_hash);
  }
  if (!st.ok()) return st;
  return *out;
}

StatusOr<v1::Event> Repository::GetEvent(const std::string& id) {
  std::optional<v1::Event> out;
  Status st = pool_.Read([&](pqxx::transaction_base& tx) -> Status {
    out = ReadEvent(tx, id, false);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  if (!out) return Status::NotFound("events/" + id);
  return *out;
}

StatusOr<std::vector<v1::Event>> Repository::ListEvents(const EventFilter& f,
                                                        const std::optional<Cursor>& after,
                                                        int limit) {
  std::vector<v1::Event> out;
  Status st = pool_.Read([&](pqxx::transaction_base& tx) -> Status {
    auto opt = [](const std::optional<int64_t>& v) {
      return v ? std::to_string(*v) : std::string();
    };
    auto rows =
        Exec(tx, sql::kListEvents, after ? std::to_string(after->micros) : std::string(),
             after ? after->id : std::string(), f.series_id, f.region, f.language_code, f.status,
             opt(f.start_from_micros), opt(f.start_to_micros), f.include_drafts, limit, f.query);
    for (const auto& r : rows) out.push_back(EventFromRow(r));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

StatusOr<v1::Event> Repository::UpdateEvent(const std::string& id,
                                            const std::function<Status(v1::Event&)>& change) {
  std::optional<v1::Event> out;
  Status st = pool_.Transact([&](pqxx::work& tx) -> Status {
    auto current = ReadEvent(tx, id, true);
    if (!current) return Status::NotFound("events/" + id);
    v1::Event next = *current;
    ECD_RETURN_IF_ERROR(change(next));
    if (!next.series().empty() && next.series() != current->series()) {
      auto found = Exec(tx, sql::kSeriesExists, IdOfSeries(next.series()));
      if (found.empty()) return Status::NotFound(next.series());
    }
    WriteEvent(tx, sql::kUpdateEvent, id, next, "", "", false);
    bool agenda_changed = next.agenda_size() != current->agenda_size();
    for (int i = 0; !agenda_changed && i < next.agenda_size(); ++i) {
      agenda_changed = next.agenda(i).SerializeAsString() != current->agenda(i).SerializeAsString();
    }
    if (agenda_changed) WriteAgenda(tx, id, next);
    out = ReadEvent(tx, id, false);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return *out;
}

StatusOr<v1::Material> Repository::AddMaterial(const std::string& event_id, const std::string& id,
                                               const v1::Material& m, const std::string& content) {
  std::optional<v1::Material> out;
  Status st = pool_.Transact([&](pqxx::work& tx) -> Status {
    if (Exec(tx, sql::kEventExists, event_id).empty()) {
      return Status::NotFound("events/" + event_id);
    }
    Exec(tx, sql::kInsertMaterial, id, event_id, static_cast<int>(m.kind()), m.title(),
         m.filename(), m.content_type(), m.size_bytes(), m.sha256(), m.external_uri(),
         pqxx::binarystring(content.data(), content.size()));
    auto rows = Exec(tx, sql::kGetMaterialById, id);
    out = MaterialFromRow(rows[0]);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return *out;
}

StatusOr<std::vector<v1::Material>> Repository::ListMaterials(const std::string& event_id) {
  std::vector<v1::Material> out;
  Status st = pool_.Read([&](pqxx::transaction_base& tx) -> Status {
    auto rows = Exec(tx, sql::kListMaterials, event_id);
    for (const auto& r : rows) out.push_back(MaterialFromRow(r));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

StatusOr<std::map<std::string, std::vector<v1::Material>>> Repository::AllMaterials() {
  std::map<std::string, std::vector<v1::Material>> out;
  ECD_RETURN_IF_ERROR(pool_.Read([&](pqxx::transaction_base& tx) -> Status {
    for (const auto& r : Exec(tx, sql::kAllMaterials)) {
      out[r[1].as<std::string>()].push_back(MaterialFromRow(r));
    }
    return Status::Ok();
  }));
  return out;
}

StatusOr<StoredMaterial> Repository::GetMaterial(const std::string& event_id, const std::string& id,
                                                 bool with_content) {
  std::optional<StoredMaterial> out;
  Status st = pool_.Read([&](pqxx::transaction_base& tx) -> Status {
    auto rows = Exec(tx, with_content ? sql::kGetMaterialContent : sql::kGetMaterial, event_id, id);
    if (rows.empty()) return Status::Ok();
    StoredMaterial sm;
    sm.material = MaterialFromRow(rows[0]);
    if (with_content && rows[0].size() > 10 && !rows[0][10].is_null()) {
      pqxx::binarystring bytes(rows[0][10]);
      sm.content = bytes.str();
    }
    out = std::move(sm);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  if (!out) return Status::NotFound("events/" + event_id + "/materials/" + id);
  return std::move(*out);
}

Status Repository::DeleteDraft(const std::string& id) {
  return pool_.Transact([&](pqxx::work& tx) -> Status {
    auto current = ReadEvent(tx, id, true);
    if (!current) return Status::NotFound("events/" + id);
    if (current->status() != v1::EVENT_STATUS_DRAFT) {
      return Status::FailedPrecondition(
                 "EVENT_NOT_DRAFT", "only a draft can be deleted (this one is " +
                                        v1::EventStatus_Name(current->status()) + "; cancel it)")
          .With("event_status", v1::EventStatus_Name(current->status()));
    }
    Exec(tx, sql::kDeleteDraft, id);
    return Status::Ok();
  });
}

Status Repository::DeleteMaterial(const std::string& event_id, const std::string& id) {
  return pool_.Transact([&](pqxx::work& tx) -> Status {
    auto r = Exec(tx, sql::kDeleteMaterial, event_id, id);
    if (r.affected_rows() == 0) {
      return Status::NotFound("events/" + event_id + "/materials/" + id);
    }
    return Status::Ok();
  });
}

}  // namespace ecd::catalogue
