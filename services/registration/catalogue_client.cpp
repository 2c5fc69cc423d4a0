#include "services/registration/catalogue_client.hpp"

#include <grpcpp/grpcpp.h>

#include "common/server.hpp"
#include "ecd/catalogue/v1/catalogue.grpc.pb.h"

namespace ecd::registration {

struct CatalogueClient::Impl {
  std::unique_ptr<catalogue::v1::CatalogueService::Stub> stub;
};

CatalogueClient::CatalogueClient(const std::string& address, std::string token,
                                 std::chrono::milliseconds ttl, bool tls,
                                 const std::string& tls_root_file)
    : impl_(std::make_unique<Impl>()), token_(std::move(token)), ttl_(ttl) {
  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
  if (tls) {
    grpc::SslCredentialsOptions ssl;
    if (!tls_root_file.empty()) ssl.pem_root_certs = ReadFileOrThrow(tls_root_file);
    creds = grpc::SslCredentials(ssl);
  }
  impl_->stub = catalogue::v1::CatalogueService::NewStub(grpc::CreateChannel(address, creds));
}

CatalogueClient::~CatalogueClient() = default;

StatusOr<catalogue::v1::Event> CatalogueClient::GetEvent(const std::string& event_id) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(event_id);
    if (it != cache_.end() && now - it->second.fetched < ttl_) return it->second.event;
  }
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + token_);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
  catalogue::v1::GetEventRequest req;
  req.set_name("events/" + event_id);
  catalogue::v1::GetEventResponse resp;
  grpc::Status st = impl_->stub->GetEvent(&ctx, req, &resp);
  if (st.error_code() == grpc::StatusCode::NOT_FOUND) return Status::NotFound("events/" + event_id);
  if (!st.ok()) {
    return Status::Unavailable("CATALOGUE_UNAVAILABLE",
                               "the catalogue could not be asked: " + st.error_message());
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (cache_.size() > 10000) cache_.clear();  // bounded memory
  cache_[event_id] = {resp.event(), now};
  return resp.event();
}

}  // namespace ecd::registration
