#pragma once
// The thin gRPC adapter: each method authorises through CallHandler, runs the Catalogue method on
// a worker, and finishes the call.
#include "common/server.hpp"
#include "ecd/catalogue/v1/catalogue.grpc.pb.h"
#include "services/catalogue/catalogue.hpp"

namespace ecd::catalogue {

inline constexpr char kServiceName[] = "ecd.catalogue.v1.CatalogueService";
inline constexpr size_t kDownloadChunkBytes = 64 * 1024;

class CatalogueServiceImpl final : public v1::CatalogueService::CallbackService {
 public:
  CatalogueServiceImpl(Catalogue& catalogue, CallHandler& calls)
      : catalogue_(catalogue), calls_(calls) {}

#define ECD_UNARY(Method)                                                                      \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* ctx,                           \
                                   const v1::Method##Request* req, v1::Method##Response* resp) \
      override {                                                                               \
    return calls_.Unary(ctx, #Method, [this, req, resp](const CallContext& c) {                \
      return catalogue_.Method(c, *req, resp);                                                 \
    });                                                                                        \
  }
  ECD_UNARY(CreateSeries)
  ECD_UNARY(GetSeries)
  ECD_UNARY(ListSeries)
  ECD_UNARY(CreateEvent)
  ECD_UNARY(GetEvent)
  ECD_UNARY(ListEvents)
  ECD_UNARY(UpdateEvent)
  ECD_UNARY(PublishEvent)
  ECD_UNARY(CancelEvent)
  ECD_UNARY(CompleteEvent)
  ECD_UNARY(AddMaterial)
  ECD_UNARY(ListMaterials)
  ECD_UNARY(DeleteMaterial)
#undef ECD_UNARY

  grpc::ServerWriteReactor<v1::DownloadMaterialResponse>* DownloadMaterial(
      grpc::CallbackServerContext* ctx, const v1::DownloadMaterialRequest* req) override;

 private:
  Catalogue& catalogue_;
  CallHandler& calls_;
};

}  // namespace ecd::catalogue
