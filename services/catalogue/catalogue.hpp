#pragma once
// The catalogue's logic, free of gRPC: each method takes the caller and a request, fills the
// response, and returns a Status. The adapter (service.hpp) binds it to CatalogueService.
#include <cstdint>
#include <functional>
#include <string>

#include "common/auth.hpp"
#include "common/page_token.hpp"
#include "common/status.hpp"
#include "ecd/catalogue/v1/catalogue.pb.h"
#include "services/catalogue/cache.hpp"
#include "services/catalogue/repository.hpp"

namespace ecd::catalogue {

// Who may call what (short method names).
const RoleTable& CatalogueRoles();

class Catalogue {
 public:
  // Writes go to `repo`, reads to `cache` (memory while synchronised, `repo` otherwise); every
  // write reloads what it changed into `cache` before it returns. `now`: the clock (microseconds
  // since the epoch) that lifecycle rules are checked against.
  Catalogue(Repository& repo, EventCache& cache, const PageTokens& tokens,
            std::function<int64_t()> now)
      : repo_(repo), cache_(cache), tokens_(tokens), now_(std::move(now)) {}

  // Whether reads are answered from memory now (they do not wait on the database).
  bool ReadsFromMemory() const { return cache_.synchronised(); }

  Status CreateSeries(const CallContext& c, const v1::CreateSeriesRequest& req,
                      v1::CreateSeriesResponse* resp);
  Status GetSeries(const CallContext& c, const v1::GetSeriesRequest& req,
                   v1::GetSeriesResponse* resp);
  Status ListSeries(const CallContext& c, const v1::ListSeriesRequest& req,
                    v1::ListSeriesResponse* resp);
  Status CreateEvent(const CallContext& c, const v1::CreateEventRequest& req,
                     v1::CreateEventResponse* resp);
  Status GetEvent(const CallContext& c, const v1::GetEventRequest& req, v1::GetEventResponse* resp);
  Status ListEvents(const CallContext& c, const v1::ListEventsRequest& req,
                    v1::ListEventsResponse* resp);
  Status UpdateEvent(const CallContext& c, const v1::UpdateEventRequest& req,
                     v1::UpdateEventResponse* resp);
  Status PublishEvent(const CallContext& c, const v1::PublishEventRequest& req,
                      v1::PublishEventResponse* resp);
  Status CancelEvent(const CallContext& c, const v1::CancelEventRequest& req,
                     v1::CancelEventResponse* resp);
  Status CompleteEvent(const CallContext& c, const v1::CompleteEventRequest& req,
                       v1::CompleteEventResponse* resp);
  Status DeleteEvent(const CallContext& c, const v1::DeleteEventRequest& req,
                     v1::DeleteEventResponse* resp);
  Status AddMaterial(const CallContext& c, const v1::AddMaterialRequest& req,
                     v1::AddMaterialResponse* resp);
  Status ListMaterials(const CallContext& c, const v1::ListMaterialsRequest& req,
                       v1::ListMaterialsResponse* resp);
  // The material's metadata and bytes, for the streaming adapter to send in chunks.
  StatusOr<StoredMaterial> DownloadMaterial(const CallContext& c,
                                            const v1::DownloadMaterialRequest& req);
  Status DeleteMaterial(const CallContext& c, const v1::DeleteMaterialRequest& req,
                        v1::DeleteMaterialResponse* resp);

 private:
  // The event if this caller may see it (NOT_FOUND for a draft unless privileged); a caller that
  // is not privileged is answered its `visible` form (no join URL).
  StatusOr<EventCache::EventPtr> VisibleEvent(const CallContext& c, const std::string& id);
  StatusOr<v1::Event> Transition(const std::string& name, v1::EventStatus to,
                                 std::initializer_list<v1::EventStatus> from);
  // Materials: admin and service always; frontend only for a published (non-draft) event.
  Status CheckMaterialsVisible(const CallContext& c, const std::string& event_id);

  Repository& repo_;
  EventCache& cache_;
  const PageTokens& tokens_;
  std::function<int64_t()> now_;
};

}  // namespace ecd::catalogue
