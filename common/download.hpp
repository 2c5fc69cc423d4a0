#pragma once
// A server stream that sends a blob in chunks, one write at a time as flow control allows: the
// blob is loaded on a worker (the database must not block the reactor), then written from the
// reactor's callbacks. The first message carries `first` (the resource's metadata) with the
// first chunk. Used by the catalogue's materials and the certificates' PDFs.
#include <grpcpp/grpcpp.h>

#include <functional>
#include <string>

#include "common/server.hpp"

namespace ecd {

inline constexpr size_t kDownloadChunkBytes = 64 * 1024;

template <class Response>
struct Blob {
  Response first;  // the metadata fields, set on the first message only
  std::string bytes;
};

// `load(call)` runs on a worker; `set_chunk(message, bytes)` puts a chunk in a message.
template <class Response>
class DownloadReactor final : public grpc::ServerWriteReactor<Response> {
 public:
  using Loader = std::function<StatusOr<Blob<Response>>(const CallContext&)>;
  using ChunkSetter = std::function<void(Response*, std::string)>;

  DownloadReactor(grpc::CallbackServerContext* ctx, CallHandler& calls, const char* method,
                  Loader load, ChunkSetter set_chunk)
      : calls_(calls), method_(method), set_chunk_(std::move(set_chunk)) {
    auto call = calls_.Begin(ctx, method_);
    if (!call.ok()) {
      Done(call.status());
      return;
    }
    call_ = *call;
    bool queued = calls_.workers().TrySubmit([this, load = std::move(load)] {
      Status loaded = calls_.Guard([&]() -> Status {
        auto blob = load(call_);
        if (!blob.ok()) return blob.status();
        blob_ = std::move(*blob);
        return Status::Ok();
      });
      if (!loaded.ok()) {
        Done(loaded);
        return;
      }
      SendNext();
    });
    if (!queued) Done(Overloaded());
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
    if (sent_first_ && offset_ >= blob_.bytes.size()) {
      Done(Status::Ok());
      return;
    }
    if (!sent_first_) {
      message_ = blob_.first;
      sent_first_ = true;
    } else {
      message_.Clear();
    }
    size_t n = std::min(kDownloadChunkBytes, blob_.bytes.size() - offset_);
    set_chunk_(&message_, blob_.bytes.substr(offset_, n));
    offset_ += n;
    this->StartWrite(&message_);
  }

  void Done(const Status& s) {
    calls_.Log(method_, s, start_, call_.request_id, RoleName(call_.role));
    this->Finish(calls_.ToGrpc(s));
  }

  CallHandler& calls_;
  const char* method_;
  ChunkSetter set_chunk_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  CallContext call_;
  Blob<Response> blob_;
  bool sent_first_ = false;
  size_t offset_ = 0;
  Response message_;
};

}  // namespace ecd
