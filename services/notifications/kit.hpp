#pragma once
// The information kit: which of an event's materials a mail carries as files (uploaded ones, in
// the catalogue's order, while they fit in the attachment budget) and which it links to
// (external ones, and uploaded ones beyond the budget, at the frontends' download URL), and
// where the bytes come from (the catalogue's DownloadMaterial, checked against their SHA-256).
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/catalogue_client.hpp"
#include "common/status.hpp"
#include "services/notifications/mime.hpp"
#include "services/notifications/render.hpp"
#include "services/notifications/store.hpp"

namespace ecd::notifications {

struct KitOptions {
  // The most bytes of files one mail carries (before encoding); 0 attaches nothing.
  int64_t attachment_budget = int64_t{10} << 20;
  // Where frontends serve an uploaded material, with {event}, {material} (ids), {name}
  // ("events/{event}/materials/{material}") and {filename} (percent-encoded) replaced. Empty: an
  // uploaded material that is not attached cannot be linked (the mail says so).
  std::string url_template;
};

struct KitMaterial {
  std::string name;  // "events/{id}/materials/{id}"
  std::string title;
  std::string filename;
  std::string content_type;
  std::string sha256;  // of uploaded bytes
  std::string external_uri;
  int64_t size_bytes = 0;
  int64_t create_micros = 0;
  std::shared_ptr<const std::string> content;  // the bytes, when fetched

  bool uploaded() const { return external_uri.empty(); }
  // What changes when the material is replaced: its bytes' digest, or its link.
  std::string version() const { return uploaded() ? sha256 : external_uri; }
};

// A kit item that every kit message records: its recipient's items say exactly what they were
// given. (Kits sent before items were recorded lack it: for them, only materials created after
// their kit count as new.)
inline constexpr char kKitMarker[] = "kit";

struct KitPlan {
  std::vector<MaterialLine> attached;  // for the text
  std::vector<MaterialLine> linked;
  std::vector<Attachment> files;  // what the mail carries, in the order of `attached`
  std::vector<KitItem> items;     // what the recipient is given
};

// The link to an uploaded material: `url_template` with its placeholders replaced ("" when the
// template is empty).
std::string MaterialUrl(const std::string& url_template, const KitMaterial& material);

// In the given order: an uploaded material whose bytes are at hand is attached when it fits in
// what is left of the budget, otherwise linked; an external one is linked.
KitPlan PlanKit(const std::vector<KitMaterial>& materials, const KitOptions& options);

// The catalogue's materials of an event, with their bytes.
class MaterialSource {
 public:
  MaterialSource(CatalogueReader& catalogue, const CatalogueClient::Options& catalogue_options,
                 KitOptions options);
  ~MaterialSource();
  const KitOptions& options() const { return options_; }

  // The event's materials (metadata only).
  StatusOr<std::vector<KitMaterial>> List(const std::string& event_id);
  // Fetches the bytes of the uploaded materials that `wanted` selects (all when it is empty) and
  // that could fit in the budget; UNAVAILABLE when the catalogue cannot be asked or the bytes do
  // not match their digest (the caller tries again later).
  Status Fetch(std::vector<KitMaterial>& materials,
               const std::function<bool(const KitMaterial&)>& wanted = nullptr);

 private:
  StatusOr<std::shared_ptr<const std::string>> Download(const KitMaterial& material);

  CatalogueReader& catalogue_;
  KitOptions options_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  // Recently fetched bytes by digest (a kit and its late copies and updates ask again), bounded.
  std::mutex mu_;
  std::list<std::pair<std::string, std::shared_ptr<const std::string>>> cache_;
  int64_t cached_bytes_ = 0;
};

}  // namespace ecd::notifications
