#include "services/catalogue/service.hpp"

#include <mutex>

namespace ecd::catalogue {
namespace {

// Sends a material's bytes in chunks, one write at a time as flow control allows. The bytes are
// loaded on a worker (the database must not block the reactor); writes then proceed from the
// reactor's callbacks.
class DownloadReactor final : public grpc::ServerWriteReactor<v1::DownloadMaterialResponse> {
 public:
  DownloadReactor(grpc::CallbackServerContext* ctx, const v1::DownloadMaterialRequest* req,
                  Catalogue& catalogue, CallHandler& calls)
      : calls_(calls), start_(std::chrono::steady_clock::now()) {
    auto call = calls_.Begin(ctx, "DownloadMaterial");
    if (!call.ok()) {
      Done(call.status());
      return;
    }
    call_ = *call;
    bool queued = calls_.workers().TrySubmit([this, req, &catalogue] {
      auto loaded = calls_.Guard([&]() -> Status {
        auto m = catalogue.DownloadMaterial(call_, *req);
        if (!m.ok()) return m.status();
        stored_ = std::move(*m);
        return Status::Ok();
      });
      if (!loaded.ok()) {
        Done(loaded);
        return;
      }
      SendNext();
    });
    if (!queued) Done(Status(Code::kResourceExhausted, "OVERLOADED", "server busy, retry later"));
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Done(Status(Code::kCancelled, "CANCELLED", "the client went away"));
      return;
    }
    SendNext();
  }
  void OnDone() override { delete this; }

 private:
  void SendNext() {
    const std::string& bytes = stored_.content;
    if (offset_ > 0 && offset_ >= bytes.size()) {
      Done(Status::Ok());
      return;
    }
    message_.Clear();
    if (offset_ == 0) *message_.mutable_material() = stored_.material;
    size_t n = std::min(kDownloadChunkBytes, bytes.size() - offset_);
    message_.set_chunk(bytes.substr(offset_, n));
    offset_ += n;
    if (offset_ == 0) offset_ = 1;  // an empty file: one message, then done
    StartWrite(&message_);
  }

  void Done(const Status& s) {
    calls_.Log("DownloadMaterial", s, start_, call_.request_id, RoleName(call_.role));
    Finish(calls_.ToGrpc(s));
  }

  CallHandler& calls_;
  std::chrono::steady_clock::time_point start_;
  CallContext call_;
  StoredMaterial stored_;
  size_t offset_ = 0;
  v1::DownloadMaterialResponse message_;
};

}  // namespace

grpc::ServerWriteReactor<v1::DownloadMaterialResponse>* CatalogueServiceImpl::DownloadMaterial(
    grpc::CallbackServerContext* ctx, const v1::DownloadMaterialRequest* req) {
  return new DownloadReactor(ctx, req, catalogue_, calls_);
}

}  // namespace ecd::catalogue
