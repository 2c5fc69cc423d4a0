#include "services/notifications/kit.hpp"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cctype>

#include "common/crypto.hpp"
#include "common/peer_call.hpp"
#include "common/server.hpp"
#include "common/text.hpp"
#include "ecd/catalogue/v1/catalogue.grpc.pb.h"

namespace ecd::notifications {
namespace {

namespace cat = ::ecd::catalogue::v1;

void ReplaceAll(std::string& s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
}

}  // namespace

std::string MaterialUrl(const std::string& url_template, const KitMaterial& m) {
  if (url_template.empty()) return "";
  const std::string prefix = "events/";
  const std::string middle = "/materials/";
  std::string event, material;
  const size_t mid = m.name.find(middle);
  if (m.name.rfind(prefix, 0) == 0 && mid != std::string::npos) {
    event = m.name.substr(prefix.size(), mid - prefix.size());
    material = m.name.substr(mid + middle.size());
  }
  std::string url = url_template;
  ReplaceAll(url, "{event}", event);
  ReplaceAll(url, "{material}", material);
  ReplaceAll(url, "{name}", m.name);
  ReplaceAll(url, "{filename}", PercentEncode(m.filename));
  return url;
}

KitPlan PlanKit(const std::vector<KitMaterial>& materials, const KitOptions& options) {
  KitPlan plan;
  int64_t left = options.attachment_budget;
  for (const auto& m : materials) {
    const bool attach =
        m.uploaded() && m.content != nullptr && static_cast<int64_t>(m.content->size()) <= left;
    if (attach) {
      left -= static_cast<int64_t>(m.content->size());
      Attachment file;
      file.filename = mime::SafeFilename(m.filename.empty() ? m.title : m.filename);
      file.content_type = mime::ContentTypeFor(m.content_type, file.filename);
      file.content = m.content;
      file.sha256 = m.sha256;
      plan.attached.push_back(MaterialLine{m.title, file.filename, ""});
      plan.files.push_back(std::move(file));
    } else {
      plan.linked.push_back(MaterialLine{
          m.title, "", m.uploaded() ? MaterialUrl(options.url_template, m) : m.external_uri});
    }
    plan.items.push_back(KitItem{m.name, m.version(), attach});
  }
  return plan;
}

struct MaterialSource::Impl {
  std::unique_ptr<cat::CatalogueService::Stub> stub;
  std::string token;
};

MaterialSource::MaterialSource(CatalogueReader& catalogue,
                               const CatalogueClient::Options& catalogue_options,
                               KitOptions options)
    : catalogue_(catalogue), options_(std::move(options)), impl_(std::make_unique<Impl>()) {
  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
  if (catalogue_options.tls) {
    grpc::SslCredentialsOptions ssl;
    if (!catalogue_options.tls_root_file.empty()) {
      ssl.pem_root_certs = ReadFileOrThrow(catalogue_options.tls_root_file);
    }
    creds = grpc::SslCredentials(ssl);
  }
  impl_->stub = cat::CatalogueService::NewStub(PeerChannel(catalogue_options.address, creds));
  impl_->token = catalogue_options.token;
}

MaterialSource::~MaterialSource() = default;

StatusOr<std::vector<KitMaterial>> MaterialSource::List(const std::string& event_id) {
  ECD_ASSIGN_OR_RETURN(auto listed, catalogue_.ListMaterials(event_id));
  std::vector<KitMaterial> out;
  for (const auto& m : listed) {
    KitMaterial k;
    k.name = m.name();
    k.title = m.title();
    k.filename = m.filename();
    k.content_type = m.content_type();
    k.sha256 = m.sha256();
    k.external_uri = m.external_uri();
    k.size_bytes = m.size_bytes();
    k.create_micros = m.create_time().seconds() * 1000000 + m.create_time().nanos() / 1000;
    out.push_back(std::move(k));
  }
  return out;
}

Status MaterialSource::Fetch(std::vector<KitMaterial>& materials,
                             const std::function<bool(const KitMaterial&)>& wanted) {
  for (auto& m : materials) {
    if (!m.uploaded() || m.content != nullptr || m.size_bytes > options_.attachment_budget) {
      continue;
    }
    if (wanted && !wanted(m)) continue;
    ECD_ASSIGN_OR_RETURN(auto bytes, Download(m));
    m.content = bytes;
  }
  return Status::Ok();
}

StatusOr<std::shared_ptr<const std::string>> MaterialSource::Download(const KitMaterial& m) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = cache_.begin(); it != cache_.end(); ++it) {
      if (it->first == m.sha256) {
        cache_.splice(cache_.begin(), cache_, it);  // most recently used first
        return cache_.front().second;
      }
    }
  }
  grpc::ClientContext ctx;
  // A 20 MiB material in 64 KiB chunks: far more than enough on any network we deploy to.
  PreparePeerCall(&ctx, impl_->token, std::chrono::seconds(60));
  cat::DownloadMaterialRequest req;
  req.set_name(m.name);
  auto reader = impl_->stub->DownloadMaterial(&ctx, req);
  std::string bytes;
  bytes.reserve(static_cast<size_t>(std::max<int64_t>(m.size_bytes, 0)));
  cat::DownloadMaterialResponse chunk;
  while (reader->Read(&chunk)) bytes += chunk.chunk();
  ECD_RETURN_IF_ERROR(PeerStatus(reader->Finish(), m.name, "CATALOGUE_UNAVAILABLE", "catalogue"));
  if (Sha256Hex(bytes) != m.sha256) {
    // Replaced between the listing and the download: the next pass lists it again.
    return Status::Unavailable("MATERIAL_CHANGED", m.name + " changed while it was fetched");
  }
  auto shared = std::make_shared<const std::string>(std::move(bytes));
  std::lock_guard<std::mutex> lock(mu_);
  cache_.emplace_front(m.sha256, shared);
  cached_bytes_ += static_cast<int64_t>(shared->size());
  // Room for two kits' worth of files.
  const int64_t limit = 2 * std::max<int64_t>(options_.attachment_budget, 1 << 20);
  while (cached_bytes_ > limit && cache_.size() > 1) {
    cached_bytes_ -= static_cast<int64_t>(cache_.back().second->size());
    cache_.pop_back();
  }
  return shared;
}

}  // namespace ecd::notifications
