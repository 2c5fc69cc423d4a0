// registration: the RegistrationService binary.
//   registration            serve (migrates first)
//   registration --migrate  apply the schema migrations and exit
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <cstring>
#include <iostream>
#include <thread>

#include "common/catalogue_client.hpp"
#include "common/config.hpp"
#include "common/migrations.hpp"
#include "common/pg.hpp"
#include "common/redis.hpp"
#include "common/server.hpp"
#include "common/startup.hpp"
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
  int relay_batch = 200;
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
             "participants' cancellation tokens, the same on every replica");
  }
  c.integration_reads = env.Bool("ECD_INTEGRATION_READS_REGISTRATIONS", false);
  if (env.String("ECD_NOTIFICATIONS_ADDRESS", "") != "off") {
    c.notifications_address = env.Address("ECD_NOTIFICATIONS_ADDRESS", "127.0.0.1:50063");
  }
  c.relay_batch = static_cast<int>(env.Int("ECD_RELAY_BATCH", 200, 1, 500));
  c.idempotency_hours = static_cast<int>(env.Int("ECD_IDEMPOTENCY_RETENTION_HOURS", 48, 24, 8760));
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
  ecd::registration::Repository repo(pool);
  ecd::CatalogueClient catalogue(rc.catalogue);
  ecd::PageTokens page_tokens(config.page_token_secret);
  ecd::registration::CancelTokens cancel_tokens(rc.cancel_token_secret);
  ecd::registration::Registrations registrations(
      {repo, catalogue, cache.get(), cancel_tokens, page_tokens, [] {
         return std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
             .count();
       }});
  ecd::Authenticator auth(std::move(start.tokens),
                          ecd::registration::RegistrationRoles(rc.integration_reads));
  ecd::registration::AvailabilityHub hub(config.pg_url);
  hub.Start();
  ecd::ServiceHost host(config, ecd::registration::kServiceName);
  ecd::CallHandler calls(auth, host.workers(), "registration.ecd");
  ecd::registration::RegistrationServiceImpl service(registrations, calls, hub);
  host.AddService(&service);
  host.AddDependency({"postgresql", [&pool] { return pool.Probe(); }, true});
  if (redis) host.AddDependency({"redis", [&redis] { return redis->Probe(); }, false});
  host.OnShutdown([&hub] { hub.Stop(); });
  std::unique_ptr<ecd::registration::Relay> relay;
  if (!rc.notifications_address.empty()) {
    relay = std::make_unique<ecd::registration::Relay>(
        config.pg_url,
        ecd::registration::Relay::Options{rc.notifications_address, rc.catalogue.token});
    relay->Start();
  } else {
    spdlog::warn("ECD_NOTIFICATIONS_ADDRESS=off: the outbox is not relayed");
  }

  // Idempotency keys are kept at least 24 hours (ECD_IDEMPOTENCY_RETENTION_HOURS), then purged.
  std::mutex purge_mu;
  std::condition_variable purge_cv;
  bool stopping = false;
  std::thread purger([&] {
    std::unique_lock<std::mutex> lock(purge_mu);
    while (!purge_cv.wait_for(lock, std::chrono::minutes(10), [&] { return stopping; })) {
      auto st = repo.PurgeRequests(std::to_string(rc.idempotency_hours) + " hours");
      if (!st.ok()) spdlog::warn("idempotency purge: {}", st.ToString());
    }
  });
  int code = host.Run();
  {
    std::lock_guard<std::mutex> lock(purge_mu);
    stopping = true;
  }
  purge_cv.notify_all();
  purger.join();
  if (relay) relay->Stop();
  return code;
}
