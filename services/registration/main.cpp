// registration: the RegistrationService binary.
//   registration            serve (migrates first)
//   registration --migrate  apply the schema migrations and exit
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <iostream>
#include <thread>

#include "common/catalogue_client.hpp"
#include "common/config.hpp"
#include "common/migrations.hpp"
#include "common/periodic_task.hpp"
#include "common/pg.hpp"
#include "common/redis.hpp"
#include "common/server.hpp"
#include "common/startup.hpp"
#include "common/time.hpp"
#include "services/registration/availability_hub.hpp"
#include "services/registration/registration.hpp"
#include "services/registration/relay.hpp"
#include "services/registration/service.hpp"

namespace ecd::registration {
const std::vector<ecd::Migration>& Migrations();
}

namespace {

struct RegistrationConfig {
  std::optional<std::pair<std::string, int>> redis;  // host, port; none when "off"
  int redis_pool_size = 4;
  std::chrono::milliseconds redis_timeout{200};
  std::chrono::milliseconds quota_cache_ttl{60000};
  ecd::CatalogueClient::Options catalogue;
  std::string cancel_token_secret;
  bool integration_reads = false;
  int idempotency_hours = 48;
  std::string notifications_address;  // "" when the relay is off
  std::string certificates_address;   // "" when reports do not count certificates
  int relay_batch = 200;
  int64_t hold_micros = 0;
  std::chrono::milliseconds hold_sweep{5000};
  ecd::registration::RegisterGrouping grouping;
};

RegistrationConfig LoadRegistrationConfig(ecd::Env& env) {
  RegistrationConfig c;
  std::string redis = env.String("ECD_REDIS_ADDRESS", "127.0.0.1:6379");
  if (redis != "off") {
    std::string checked = env.Address("ECD_REDIS_ADDRESS", "127.0.0.1:6379");
    auto colon = checked.rfind(':');
    c.redis = std::make_pair(checked.substr(0, colon), std::stoi(checked.substr(colon + 1)));
  }
  c.redis_pool_size = static_cast<int>(env.Int("ECD_REDIS_POOL_SIZE", 8, 1, 256));
  c.redis_timeout = env.Millis("ECD_REDIS_TIMEOUT_MS", 200, 1, 60000);
  c.quota_cache_ttl = env.Millis("ECD_QUOTA_CACHE_TTL_MS", 60000, 1000, 86400000);
  c.catalogue = ecd::CatalogueClient::Options::Load(env);
  c.cancel_token_secret = env.Secret("ECD_CANCEL_TOKEN_SECRET");
  if (c.cancel_token_secret.size() < 16) {
    env.Fail("ECD_CANCEL_TOKEN_SECRET",
             "required, at least 16 characters (or ECD_CANCEL_TOKEN_SECRET_FILE): the key of "
             "participants' keys (formerly cancellation tokens), the same on every replica");
  }
  // How long a frontend's registration holds its place while the address is verified.
  c.hold_micros =
      env.Millis("ECD_VERIFICATION_HOLD_MS", 30 * 60 * 1000, 1000, 7 * 86400000LL).count() * 1000;
  c.hold_sweep = env.Millis("ECD_HOLD_SWEEP_INTERVAL_MS", 5000, 50, 600000);
  c.integration_reads = env.Bool("ECD_INTEGRATION_READS_REGISTRATIONS", false);
  if (env.String("ECD_NOTIFICATIONS_ADDRESS", "") != "off") {
    c.notifications_address = env.Address("ECD_NOTIFICATIONS_ADDRESS", "127.0.0.1:50063");
  }
  if (env.String("ECD_CERTIFICATES_ADDRESS", "") != "off") {
    c.certificates_address = env.Address("ECD_CERTIFICATES_ADDRESS", "127.0.0.1:50064");
  }
  c.relay_batch = static_cast<int>(env.Int("ECD_RELAY_BATCH", 200, 1, 500));
  c.idempotency_hours = static_cast<int>(env.Int("ECD_IDEMPOTENCY_RETENTION_HOURS", 48, 24, 8760));
  // Register calls committed together: how many groups at once, and how large at most.
  c.grouping.max_groups = static_cast<int>(env.Int("ECD_REGISTER_GROUPS", 2, 1, 64));
  c.grouping.max_size = static_cast<int>(env.Int("ECD_REGISTER_GROUP_SIZE", 8, 1, 60));
  // Calls waiting for one quota row (event and country): a flood for one row leaves room for the
  // others' calls.
  c.grouping.max_waiting_per_key =
      static_cast<size_t>(env.Int("ECD_REGISTER_ROW_WAITING", 256, 1, 1000000));
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  ecd::BlockShutdownSignals();
  ecd::Startup start;
  RegistrationConfig rc;
  // Room for a 10 MiB attendance report (ImportAttendance).
  if (auto exit = ecd::Start(
          argc, argv, "registration", "127.0.0.1:50062", int64_t{12} << 20, {"--migrate"},
          [&](ecd::Env& env) { rc = LoadRegistrationConfig(env); }, &start)) {
    return *exit;
  }
  const ecd::CommonConfig& config = start.config;
  const bool migrate_only = start.mode == "--migrate";

  ecd::PgPool pool(
      {config.pg_url, config.pg_pool_size, config.pg_acquire_timeout, config.pg_statement_timeout});
  if (auto st = ecd::MigrateWhenReady(pool, "registration", ecd::registration::Migrations(),
                                      config.pg_startup_timeout);
      !st.ok()) {
    spdlog::critical("cannot migrate: {}", st.ToString());
    return 1;
  }
  if (migrate_only) return 0;

  std::unique_ptr<ecd::RedisPool> redis;
  std::unique_ptr<ecd::registration::QuotaCache> cache;
  if (rc.redis) {
    redis = std::make_unique<ecd::RedisPool>(ecd::RedisPool::Options{
        rc.redis->first, rc.redis->second, rc.redis_pool_size, rc.redis_timeout, ""});
    cache = std::make_unique<ecd::registration::QuotaCache>(*redis, rc.quota_cache_ttl);
  } else {
    spdlog::warn("ECD_REDIS_ADDRESS=off: availability is read from PostgreSQL only");
  }
  if (config.page_token_secret.empty()) {
    spdlog::warn("ECD_PAGE_TOKEN_SECRET is not set: page tokens only work on this replica");
  }
  ecd::registration::ParticipantKeys keys(rc.cancel_token_secret);
  // A group's leader is a worker while calls wait: leave one for the other calls.
  if (const int most = std::max(1, config.workers - 1); rc.grouping.max_groups > most) {
    spdlog::warn("ECD_REGISTER_GROUPS={} lowered to {}: leaders are workers (ECD_WORKERS={})",
                 rc.grouping.max_groups, most, config.workers);
    rc.grouping.max_groups = most;
  }
  // Register calls waiting for a group are bounded like calls waiting for a worker.
  rc.grouping.max_waiting = static_cast<size_t>(config.queue_size);
  ecd::registration::Repository repo(pool, keys, rc.grouping);
  ecd::CatalogueClient catalogue(rc.catalogue);
  ecd::PageTokens page_tokens(config.page_token_secret);
  // Reports count certificates and messages by asking their services.
  auto peers = ecd::registration::GrpcReportPeers(rc.certificates_address, rc.notifications_address,
                                                  rc.catalogue.token);
  ecd::registration::Registrations registrations({repo, catalogue, cache.get(), keys, page_tokens,
                                                  ecd::NowMicros, rc.hold_micros, peers.get()});
  ecd::Authenticator auth(std::move(start.tokens),
                          ecd::registration::RegistrationRoles(rc.integration_reads));
  ecd::registration::AvailabilityHub hub(config.pg_url);
  hub.Start();
  ecd::ServiceHost host(config, ecd::registration::kServiceName);
  ecd::CallHandler calls(auth, host.workers(), "registration.ecd",
                         "ecd.registration.v1.RegistrationService");
  ecd::registration::RegistrationServiceImpl service(registrations, calls, hub);
  host.AddService(&service);
  host.AddDependency({"postgresql", [&pool] { return pool.Probe(); }, true});
  if (redis) host.AddDependency({"redis", [&redis] { return redis->Probe(); }, false});
  host.OnShutdown([&hub] { hub.Stop(); });
  std::unique_ptr<ecd::registration::Relay> relay;
  if (!rc.notifications_address.empty()) {
    relay = std::make_unique<ecd::registration::Relay>(
        config.pg_url, ecd::registration::Relay::Options{rc.notifications_address,
                                                         rc.catalogue.token, rc.relay_batch});
    relay->Start();
    // Every change writes outbox rows and notifies: delivered at once rather than at the next
    // poll.
    hub.OnEveryChange([r = relay.get()] { r->Wake(); });
  } else {
    spdlog::warn("ECD_NOTIFICATIONS_ADDRESS=off: the outbox is not relayed");
  }

  // Idempotency keys are kept at least 24 hours (ECD_IDEMPOTENCY_RETENTION_HOURS), then purged.
  ecd::PeriodicTask purger("idempotency purge", std::chrono::minutes(10), [&] {
    auto st = repo.PurgeRequests(std::to_string(rc.idempotency_hours) + " hours");
    if (!st.ok()) spdlog::warn("idempotency purge: {}", st.ToString());
  });
  purger.Start();
  // Holds whose time ran out free their seats, on every replica (claims skip each other's).
  ecd::PeriodicTask sweeper("hold sweeper", rc.hold_sweep, [&] {
    auto released = registrations.ExpireHolds();
    if (!released.ok()) {
      spdlog::warn("hold sweeper: {}", released.status().ToString());
    } else if (*released > 0) {
      spdlog::info("released {} expired hold(s)", *released);
    }
  });
  sweeper.Start();
  // What PostgreSQL knows, as metrics (seats, the outbox's backlog, Redis's agreement), when
  // metrics are served.
  ecd::PeriodicTask watcher("metrics", config.metrics_interval, [&] {
    auto st = registrations.PublishMetrics();
    if (!st.ok()) spdlog::warn("metrics: {}", st.ToString());
  });
  if (!config.metrics_address.empty()) watcher.Start();
  int code = host.Run();
  watcher.Stop();
  sweeper.Stop();
  purger.Stop();
  hub.OnEveryChange(nullptr);
  if (relay) relay->Stop();
  return code;
}
