// catalogue: the CatalogueService binary.
//   catalogue            serve (migrates first)
//   catalogue --migrate  apply the schema migrations and exit
//   catalogue --seed     migrate, load the source document's series and five webinars, exit
#include <spdlog/spdlog.h>

#include <cstring>
#include <iostream>
#include <thread>

#include "common/config.hpp"
#include "common/migrations.hpp"
#include "common/periodic_task.hpp"
#include "common/pg.hpp"
#include "common/pg_listener.hpp"
#include "common/server.hpp"
#include "common/startup.hpp"
#include "common/time.hpp"
#include "services/catalogue/cache.hpp"
#include "services/catalogue/catalogue.hpp"
#include "services/catalogue/seed.hpp"
#include "services/catalogue/service.hpp"

namespace ecd::catalogue {
const std::vector<ecd::Migration>& Migrations();
}

namespace {

constexpr int64_t kMaxMessage = (int64_t{20} << 20) + (1 << 20);  // a 20 MiB material + room

}  // namespace

int main(int argc, char** argv) {
  ecd::BlockShutdownSignals();
  ecd::Startup start;
  if (auto exit = ecd::Start(argc, argv, "catalogue", "127.0.0.1:50061", kMaxMessage,
                             {"--migrate", "--seed"}, nullptr, &start)) {
    return *exit;
  }
  const ecd::CommonConfig& config = start.config;
  enum class Mode { kServe, kMigrate, kSeed };
  const Mode mode = start.mode == "--migrate" ? Mode::kMigrate
                    : start.mode == "--seed"  ? Mode::kSeed
                                              : Mode::kServe;

  ecd::PgPool pool(
      {config.pg_url, config.pg_pool_size, config.pg_acquire_timeout, config.pg_statement_timeout});
  if (auto st = ecd::MigrateWhenReady(pool, "catalogue", ecd::catalogue::Migrations(),
                                      config.pg_startup_timeout);
      !st.ok()) {
    spdlog::critical("cannot migrate: {}", st.ToString());
    return 1;
  }
  if (mode == Mode::kMigrate) return 0;

  ecd::catalogue::Repository repo(pool);
  if (mode == Mode::kSeed) {
    auto report = ecd::catalogue::Seed(repo);
    if (!report.ok()) {
      spdlog::critical("seed failed: {}", report.status().ToString());
      return 1;
    }
    std::cout << "seed: " << report->created << " created, " << report->unchanged
              << " already there\n";
    return 0;
  }

  if (start.tokens.size() == 0)
    spdlog::warn("no tokens configured (ECD_TOKENS): every call is refused");
  if (config.page_token_secret.empty()) {
    spdlog::warn("ECD_PAGE_TOKEN_SECRET is not set: page tokens only work on this replica");
  }
  ecd::PageTokens page_tokens(config.page_token_secret);
  // Reads from memory, kept in step by the changes PostgreSQL announces (cache.hpp).
  ecd::catalogue::EventCache cache(repo);
  ecd::PgListener listener(
      "catalogue listener", config.pg_url, {"ecd_catalogue"},
      {[&cache](const std::string&, const std::string& change) { cache.Changed(change); },
       [&cache](bool) {
         if (auto st = cache.Resync(); !st.ok()) {
           spdlog::warn("catalogue cache: full load failed: {}", st.ToString());
         }
       },
       [&cache] { cache.Forget(); }});
  listener.Start();
  // A full load that failed, or a reload that did, is tried again while the listener is up.
  ecd::PeriodicTask resync("catalogue cache resync", std::chrono::seconds(2), [&] {
    if (listener.connected() && !cache.synchronised()) {
      if (auto st = cache.Resync(); !st.ok()) {
        spdlog::warn("catalogue cache: full load failed: {}", st.ToString());
      }
    }
  });
  resync.Start();
  ecd::catalogue::Catalogue catalogue(repo, cache, page_tokens, ecd::NowMicros);
  ecd::Authenticator auth(std::move(start.tokens), ecd::catalogue::CatalogueRoles());
  ecd::ServiceHost host(config, ecd::catalogue::kServiceName);
  ecd::CallHandler calls(auth, host.workers(), "catalogue.ecd",
                         "ecd.catalogue.v1.CatalogueService");
  ecd::catalogue::CatalogueServiceImpl service(catalogue, calls);
  host.AddService(&service);
  host.AddDependency({"postgresql", [&pool] { return pool.Probe(); }, true});
  host.AddDependency({"catalogue_cache", [&cache] { return cache.synchronised(); }, false});
  const int code = host.Run();
  resync.Stop();
  listener.Stop();
  return code;
}
