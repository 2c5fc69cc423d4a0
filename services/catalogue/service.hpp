#pragma once
// The thin gRPC adapter: each method authorises through CallHandler, runs the Catalogue method on
// a worker, and finishes the call.
#include "common/arena_messages.hpp"
#include "common/server.hpp"
#include "ecd/catalogue/v1/catalogue.grpc.pb.h"
#include "services/catalogue/catalogue.hpp"

namespace ecd::catalogue {

inline constexpr char kServiceName[] = "ecd.catalogue.v1.CatalogueService";

// A unary method whose answer comes from memory while `in_place` holds.
#define ECD_MEMORY_READ(Method, in_place)                                                      \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* ctx,                           \
                                   const v1::Method##Request* req, v1::Method##Response* resp) \
      override {                                                                               \
    return calls_.UnaryInPlace(ctx, #Method, (in_place),                                       \
                               [this, req, resp](const ::ecd::CallContext& c) {                \
                                 return catalogue_.Method(c, *req, resp);                      \
                               });                                                             \
  }

class CatalogueServiceImpl final : public v1::CatalogueService::CallbackService {
 public:
  CatalogueServiceImpl(Catalogue& catalogue, CallHandler& calls)
      : catalogue_(catalogue), calls_(calls) {
    // The reads frontends make on every page view build their answers on an arena.
    SetMessageAllocatorFor_GetEvent(&get_event_messages_);
    SetMessageAllocatorFor_ListEvents(&list_events_messages_);
  }

  ECD_UNARY_METHOD(CreateSeries, catalogue_)
  ECD_UNARY_METHOD(CreateEvent, catalogue_)
  // Reads answered from memory run on gRPC's thread (a text query goes to PostgreSQL: a worker).
  ECD_MEMORY_READ(GetSeries, catalogue_.ReadsFromMemory())
  ECD_MEMORY_READ(ListSeries, catalogue_.ReadsFromMemory())
  ECD_MEMORY_READ(GetEvent, catalogue_.ReadsFromMemory())
  ECD_MEMORY_READ(ListEvents, catalogue_.ReadsFromMemory() && req->query().empty())
  ECD_UNARY_METHOD(UpdateEvent, catalogue_)
  ECD_UNARY_METHOD(PublishEvent, catalogue_)
  ECD_UNARY_METHOD(CancelEvent, catalogue_)
  ECD_UNARY_METHOD(CompleteEvent, catalogue_)
  ECD_UNARY_METHOD(DeleteEvent, catalogue_)
  ECD_UNARY_METHOD(AddMaterial, catalogue_)
  ECD_UNARY_METHOD(ListMaterials, catalogue_)
  ECD_UNARY_METHOD(DeleteMaterial, catalogue_)

  grpc::ServerWriteReactor<v1::DownloadMaterialResponse>* DownloadMaterial(
      grpc::CallbackServerContext* ctx, const v1::DownloadMaterialRequest* req) override;

 private:
  Catalogue& catalogue_;
  CallHandler& calls_;
  ArenaMessages<v1::GetEventRequest, v1::GetEventResponse> get_event_messages_;
  ArenaMessages<v1::ListEventsRequest, v1::ListEventsResponse> list_events_messages_;
};

}  // namespace ecd::catalogue
