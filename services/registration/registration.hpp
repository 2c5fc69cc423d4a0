#pragma once
// The registration service's logic, free of gRPC: each method takes the caller and a request,
// fills the response and returns a Status. The adapter (service.hpp) binds it to the API.
#include <functional>
#include <string>

#include "common/auth.hpp"
#include "common/catalogue_client.hpp"
#include "common/page_token.hpp"
#include "common/status.hpp"
#include "ecd/registration/v1/registration.pb.h"
#include "services/registration/participant_keys.hpp"
#include "services/registration/peers.hpp"
#include "services/registration/quota_cache.hpp"
#include "services/registration/repository.hpp"

namespace ecd::registration {

// Who may call what. `integration_reads`: whether the integration role may read registrations.
RoleTable RegistrationRoles(bool integration_reads);

struct RegistrationDeps {
  Repository& repo;
  CatalogueReader& catalogue;
  QuotaCache* cache;  // null when Redis is not configured
  const ParticipantKeys& keys;
  const PageTokens& page_tokens;
  std::function<int64_t()> now_micros;  // the clock (tests may move it)
  // How long a registration holds its place while its address is verified (and how long a
  // colleague has to verify theirs in a hand-over).
  int64_t hold_micros = int64_t{30} * 60 * 1000000;
  ReportPeers* peers = nullptr;  // certificates and messages for reports; null: not counted
};

class Registrations {
 public:
  explicit Registrations(RegistrationDeps deps) : d_(std::move(deps)) {}

  // Answers through `done` (once the response is filled), perhaps on another thread after this
  // returns: the one that commits the call's group. `req` and `resp` must live until then.
  using Done = std::function<void(const Status&)>;
  void Register(const CallContext& c, const v1::RegisterRequest& req, v1::RegisterResponse* resp,
                Done done);
  Status VerifyRegistration(const CallContext& c, const v1::VerifyRegistrationRequest& req,
                            v1::VerifyRegistrationResponse* resp);
  Status GetRegistration(const CallContext& c, const v1::GetRegistrationRequest& req,
                         v1::GetRegistrationResponse* resp);
  Status UpdateRegistration(const CallContext& c, const v1::UpdateRegistrationRequest& req,
                            v1::UpdateRegistrationResponse* resp);
  Status ResendParticipantKey(const CallContext& c, const v1::ResendParticipantKeyRequest& req,
                              v1::ResendParticipantKeyResponse* resp);
  Status ListRegistrations(const CallContext& c, const v1::ListRegistrationsRequest& req,
                           v1::ListRegistrationsResponse* resp);
  Status CancelRegistration(const CallContext& c, const v1::CancelRegistrationRequest& req,
                            v1::CancelRegistrationResponse* resp);
  Status ApproveRegistration(const CallContext& c, const v1::ApproveRegistrationRequest& req,
                             v1::ApproveRegistrationResponse* resp);
  Status RejectRegistration(const CallContext& c, const v1::RejectRegistrationRequest& req,
                            v1::RejectRegistrationResponse* resp);
  Status BatchApproveRegistrations(const CallContext& c,
                                   const v1::BatchApproveRegistrationsRequest& req,
                                   v1::BatchApproveRegistrationsResponse* resp);
  Status BatchRejectRegistrations(const CallContext& c,
                                  const v1::BatchRejectRegistrationsRequest& req,
                                  v1::BatchRejectRegistrationsResponse* resp);
  Status SetCountrySeats(const CallContext& c, const v1::SetCountrySeatsRequest& req,
                         v1::SetCountrySeatsResponse* resp);
  Status GetEventReport(const CallContext& c, const v1::GetEventReportRequest& req,
                        v1::GetEventReportResponse* resp);
  Status GetSeriesReport(const CallContext& c, const v1::GetSeriesReportRequest& req,
                         v1::GetSeriesReportResponse* resp);
  // The CSV header row (with the BOM) and one registration's row, for the export stream.
  static std::string CsvHeader();
  static std::string CsvRowOf(const v1::Registration& r);
  Status GetAvailability(const CallContext& c, const v1::GetAvailabilityRequest& req,
                         v1::GetAvailabilityResponse* resp);
  Status ImportAttendance(const CallContext& c, const v1::ImportAttendanceRequest& req,
                          v1::ImportAttendanceResponse* resp);
  Status ErasePersonalData(const CallContext& c, const v1::ErasePersonalDataRequest& req,
                           v1::ErasePersonalDataResponse* resp);
  Status ListErasures(const CallContext& c, const v1::ListErasuresRequest& req,
                      v1::ListErasuresResponse* resp);
  // For the export stream: the event's registrations after `after`, `limit` at a time.
  StatusOr<std::vector<v1::Registration>> ExportPage(const std::string& event_id,
                                                     const std::optional<Cursor>& after, int limit);
  // Releases the holds whose time ran out (the sweeper's work, on every replica). Returns how
  // many were released.
  StatusOr<int> ExpireHolds();
  // Publishes what PostgreSQL knows as metrics (seats per country of recent events, the outbox
  // backlog) and compares Redis's copy of the counters with it (ecd_quota_redis_mismatches).
  Status PublishMetrics();
  // Checks the event exists and the caller may see it; returns its id.
  StatusOr<std::string> VisibleEvent(const CallContext& c, const std::string& event_name);

 private:
  void Remember(const std::vector<QuotaState>& quotas);
  // Register's answer: the registration, with the participant key it opens with.
  void FillRegistered(v1::Registration registration, v1::RegisterResponse* resp);
  // The catalogue's event of registration `id` (NOT_FOUND for an unknown registration).
  StatusOr<catalogue::v1::Event> EventOfRegistration(const std::string& id);
  StatusOr<v1::EventReport> EventReport(const catalogue::v1::Event& event,
                                        std::map<int, int>* affiliations);
  // For participant-scoped calls: admin and service pass; a frontend must give the
  // registration's participant key (PERMISSION_DENIED otherwise, the same for a registration
  // that does not exist, so that a key-less caller learns nothing).
  Status CheckKey(const CallContext& c, const std::string& id, const std::string& key,
                  const char* field);

  RegistrationDeps d_;
};

}  // namespace ecd::registration
