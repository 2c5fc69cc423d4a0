#include "common/catalogue_client.hpp"

#include <grpcpp/grpcpp.h>

#include "common/config.hpp"
#include "common/peer_call.hpp"
#include "common/server.hpp"
#include "ecd/catalogue/v1/catalogue.grpc.pb.h"

namespace ecd {

struct CatalogueClient::Impl {
  std::unique_ptr<catalogue::v1::CatalogueService::Stub> stub;
};

CatalogueClient::Options CatalogueClient::Options::Load(Env& env) {
  Options o;
  o.address = env.Address("ECD_CATALOGUE_ADDRESS", o.address);
  o.token = env.Secret("ECD_SERVICE_TOKEN");
  if (o.token.empty()) {
    env.Fail("ECD_SERVICE_TOKEN",
             "required (or ECD_SERVICE_TOKEN_FILE): the token with role "
             "service this process uses to call the catalogue");
  }
  o.ttl = env.Millis("ECD_CATALOGUE_CACHE_MS", 2000, 0, 600000);
  o.tls = env.Bool("ECD_CATALOGUE_TLS", false);
  o.tls_root_file = env.ReadableFile("ECD_CATALOGUE_CA_FILE").value_or("");
  return o;
}

CatalogueClient::CatalogueClient(const Options& options)
    : impl_(std::make_unique<Impl>()), token_(options.token), ttl_(options.ttl) {
  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
  if (options.tls) {
    grpc::SslCredentialsOptions ssl;
    if (!options.tls_root_file.empty()) ssl.pem_root_certs = ReadFileOrThrow(options.tls_root_file);
    creds = grpc::SslCredentials(ssl);
  }
  impl_->stub = catalogue::v1::CatalogueService::NewStub(PeerChannel(options.address, creds));
}

CatalogueClient::~CatalogueClient() = default;

StatusOr<EventPtr> CatalogueReader::GetEventPtr(const std::string& event_id) {
  ECD_ASSIGN_OR_RETURN(auto event, GetEvent(event_id));
  return std::make_shared<const catalogue::v1::Event>(std::move(event));
}

StatusOr<catalogue::v1::Event> CatalogueClient::GetEvent(const std::string& event_id) {
  ECD_ASSIGN_OR_RETURN(EventPtr event, GetEventPtr(event_id));
  return *event;
}

StatusOr<EventPtr> CatalogueClient::GetEventPtr(const std::string& event_id) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(event_id);
    if (it != cache_.end() && now - it->second.fetched < ttl_) return it->second.event;
  }
  grpc::ClientContext ctx;
  PreparePeerCall(&ctx, token_, std::chrono::seconds(3));
  catalogue::v1::GetEventRequest req;
  req.set_name("events/" + event_id);
  catalogue::v1::GetEventResponse resp;
  ECD_RETURN_IF_ERROR(PeerStatus(impl_->stub->GetEvent(&ctx, req, &resp), req.name(),
                                 "CATALOGUE_UNAVAILABLE", "catalogue"));
  auto event = std::make_shared<const catalogue::v1::Event>(std::move(*resp.mutable_event()));
  std::lock_guard<std::mutex> lock(mu_);
  if (cache_.size() > 10000) cache_.clear();  // bounded memory
  cache_[event_id] = {event, now};
  return event;
}

StatusOr<catalogue::v1::Series> CatalogueClient::GetSeries(const std::string& series_id) {
  grpc::ClientContext ctx;
  PreparePeerCall(&ctx, token_, std::chrono::seconds(3));
  catalogue::v1::GetSeriesRequest req;
  req.set_name("series/" + series_id);
  catalogue::v1::GetSeriesResponse resp;
  ECD_RETURN_IF_ERROR(PeerStatus(impl_->stub->GetSeries(&ctx, req, &resp), req.name(),
                                 "CATALOGUE_UNAVAILABLE", "catalogue"));
  return resp.series();
}

StatusOr<std::vector<catalogue::v1::Event>> CatalogueClient::EventsOfSeries(
    const std::string& series_id) {
  std::vector<catalogue::v1::Event> out;
  catalogue::v1::ListEventsRequest req;
  req.set_series("series/" + series_id);
  req.set_page_size(100);
  for (int pages = 0; pages < 100; ++pages) {
    grpc::ClientContext ctx;
    PreparePeerCall(&ctx, token_, std::chrono::seconds(5));
    catalogue::v1::ListEventsResponse resp;
    ECD_RETURN_IF_ERROR(PeerStatus(impl_->stub->ListEvents(&ctx, req, &resp), req.series(),
                                   "CATALOGUE_UNAVAILABLE", "catalogue"));
    out.insert(out.end(), resp.events().begin(), resp.events().end());
    if (resp.next_page_token().empty()) break;
    req.set_page_token(resp.next_page_token());
  }
  return out;
}

StatusOr<std::vector<catalogue::v1::Material>> CatalogueClient::ListMaterials(
    const std::string& event_id) {
  grpc::ClientContext ctx;
  PreparePeerCall(&ctx, token_, std::chrono::seconds(3));
  catalogue::v1::ListMaterialsRequest req;
  req.set_parent("events/" + event_id);
  catalogue::v1::ListMaterialsResponse resp;
  ECD_RETURN_IF_ERROR(PeerStatus(impl_->stub->ListMaterials(&ctx, req, &resp), req.parent(),
                                 "CATALOGUE_UNAVAILABLE", "catalogue"));
  return std::vector<catalogue::v1::Material>(resp.materials().begin(), resp.materials().end());
}

}  // namespace ecd
