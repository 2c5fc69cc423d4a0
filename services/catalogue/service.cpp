#include "services/catalogue/service.hpp"

#include "common/download.hpp"

namespace ecd::catalogue {

grpc::ServerWriteReactor<v1::DownloadMaterialResponse>* CatalogueServiceImpl::DownloadMaterial(
    grpc::CallbackServerContext* ctx, const v1::DownloadMaterialRequest* req) {
  return new DownloadReactor<v1::DownloadMaterialResponse>(
      ctx, calls_, "DownloadMaterial",
      [this, req](const CallContext& c) -> StatusOr<Blob<v1::DownloadMaterialResponse>> {
        ECD_ASSIGN_OR_RETURN(auto m, catalogue_.DownloadMaterial(c, *req));
        Blob<v1::DownloadMaterialResponse> blob;
        *blob.first.mutable_material() = std::move(m.material);
        blob.bytes = std::move(m.content);
        return blob;
      },
      [](v1::DownloadMaterialResponse* msg, std::string chunk) {
        msg->set_chunk(std::move(chunk));
      });
}

}  // namespace ecd::catalogue
