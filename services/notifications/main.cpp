// notifications: the NotificationService binary.
//   notifications            serve (migrates first) and send due messages
//   notifications --migrate  apply the schema migrations and exit
#include <spdlog/spdlog.h>

#include <cstring>
#include <iostream>
#include <thread>

#include "common/catalogue_client.hpp"
#include "common/config.hpp"
#include "common/metrics.hpp"
#include "common/migrations.hpp"
#include "common/periodic_task.hpp"
#include "common/pg.hpp"
#include "common/server.hpp"
#include "common/startup.hpp"
#include "services/notifications/kit.hpp"
#include "services/notifications/mailer.hpp"
#include "services/notifications/notifier.hpp"
#include "services/notifications/planner.hpp"
#include "services/notifications/sender.hpp"
#include "services/notifications/service.hpp"

namespace ecd::notifications {
const std::vector<ecd::Migration>& Migrations();
}

namespace {

struct NotificationsConfig {
  ecd::CatalogueClient::Options catalogue;
  ecd::notifications::SmtpConfig smtp;
  ecd::notifications::SenderOptions sender;
  ecd::notifications::KitOptions kit;
  std::string templates_dir;
  ecd::notifications::PlannerOptions planner;
  std::string verify_url_template;
  std::string manage_url_template;
};

// A frontend's page: http(s), with every placeholder it needs.
void CheckUrlTemplate(ecd::Env& env, const char* name, const std::string& value,
                      const std::vector<std::string>& placeholders) {
  if (value.empty()) return;
  if (value.rfind("https://", 0) != 0 && value.rfind("http://", 0) != 0) {
    env.Fail(name, "must start with https:// or http://");
    return;
  }
  for (const auto& p : placeholders) {
    if (value.find(p) == std::string::npos) {
      env.Fail(name, "must contain " + p);
      return;
    }
  }
}

NotificationsConfig LoadNotificationsConfig(ecd::Env& env) {
  NotificationsConfig c;
  c.catalogue = ecd::CatalogueClient::Options::Load(env);
  c.smtp.url = env.String("ECD_SMTP_URL", c.smtp.url);
  if (c.smtp.url.rfind("smtp://", 0) != 0 && c.smtp.url.rfind("smtps://", 0) != 0) {
    env.Fail("ECD_SMTP_URL", "must start with smtp:// or smtps://");
  }
  c.smtp.from_address = env.String("ECD_SMTP_FROM_ADDRESS", c.smtp.from_address);
  c.smtp.from_name = env.String("ECD_SMTP_FROM_NAME", c.smtp.from_name);
  c.smtp.user = env.String("ECD_SMTP_USER", "");
  c.smtp.password = env.Secret("ECD_SMTP_PASSWORD");
  c.smtp.starttls = env.Bool("ECD_SMTP_STARTTLS", false);
  c.smtp.timeout = env.Millis("ECD_SMTP_TIMEOUT_MS", 15000, 100, 600000);
  c.sender.threads = static_cast<int>(env.Int("ECD_SENDER_THREADS", 2, 0, 64));
  c.sender.batch = static_cast<int>(env.Int("ECD_SENDER_BATCH", 25, 1, 1000));
  c.sender.max_attempts = static_cast<int>(env.Int("ECD_SMTP_MAX_ATTEMPTS", 8, 1, 100));
  c.sender.retry_base = env.Millis("ECD_SMTP_RETRY_BASE_MS", 30000, 10, 86400000);
  c.sender.retry_max = env.Millis("ECD_SMTP_RETRY_MAX_MS", 3600000, 10, 604800000);
  c.sender.poll = env.Millis("ECD_SENDER_POLL_MS", 250, 10, 60000);
  // How long a claimed message or schedule is held: a sender that dies hands its messages over
  // after at most this long. Living senders extend their claims, so it need not exceed a send.
  c.sender.lease = env.Millis("ECD_CLAIM_LEASE_MS", 10000, 500, 600000);
  c.templates_dir = env.String("ECD_TEMPLATES_DIR", "");
  c.planner.poll = env.Millis("ECD_PLANNER_INTERVAL_MS", 30000, 100, 3600000);
  c.planner.lease = c.sender.lease;
  c.kit.attachment_budget =
      env.Int("ECD_KIT_ATTACHMENT_BUDGET_BYTES", int64_t{10} << 20, 0, int64_t{100} << 20);
  c.kit.url_template = env.String("ECD_MATERIAL_URL_TEMPLATE", "");
  if (!c.kit.url_template.empty() && c.kit.url_template.rfind("https://", 0) != 0 &&
      c.kit.url_template.rfind("http://", 0) != 0) {
    env.Fail("ECD_MATERIAL_URL_TEMPLATE", "must start with https:// or http://");
  } else if (!c.kit.url_template.empty() &&
             c.kit.url_template.find("{material}") == std::string::npos &&
             c.kit.url_template.find("{name}") == std::string::npos) {
    env.Fail("ECD_MATERIAL_URL_TEMPLATE", "must contain {material} or {name}");
  }
  c.verify_url_template = env.String("ECD_VERIFY_URL_TEMPLATE", "");
  CheckUrlTemplate(env, "ECD_VERIFY_URL_TEMPLATE", c.verify_url_template,
                   {"{registration}", "{code}"});
  c.manage_url_template = env.String("ECD_MANAGE_URL_TEMPLATE", "");
  CheckUrlTemplate(env, "ECD_MANAGE_URL_TEMPLATE", c.manage_url_template,
                   {"{registration}", "{key}"});
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  ecd::BlockShutdownSignals();
  ecd::Startup start;
  NotificationsConfig nc;
  if (auto exit = ecd::Start(
          argc, argv, "notifications", "127.0.0.1:50063", int64_t{8} << 20, {"--migrate"},
          [&](ecd::Env& env) { nc = LoadNotificationsConfig(env); }, &start)) {
    return *exit;
  }
  const ecd::CommonConfig& config = start.config;
  const bool migrate_only = start.mode == "--migrate";
  auto templates = ecd::notifications::Templates::Load(nc.templates_dir);
  if (!migrate_only && !templates.ok()) {
    spdlog::critical("templates: {}", templates.status().ToString());
    return 1;
  }

  ecd::PgPool pool(
      {config.pg_url, config.pg_pool_size, config.pg_acquire_timeout, config.pg_statement_timeout});
  if (auto st = ecd::MigrateWhenReady(pool, "notifications", ecd::notifications::Migrations(),
                                      config.pg_startup_timeout);
      !st.ok()) {
    spdlog::critical("cannot migrate: {}", st.ToString());
    return 1;
  }
  if (migrate_only) return 0;

  ecd::notifications::Store store(pool);
  ecd::CatalogueClient catalogue(nc.catalogue);
  ecd::PageTokens page_tokens(config.page_token_secret);
  ecd::notifications::MaterialSource materials(catalogue, nc.catalogue, nc.kit);
  if (nc.kit.url_template.empty()) {
    spdlog::warn(
        "ECD_MATERIAL_URL_TEMPLATE is not set: an uploaded material too large to attach cannot "
        "be linked in information kits");
  }
  for (const auto& [name, value] : {std::pair<const char*, const std::string&>{
                                        "ECD_VERIFY_URL_TEMPLATE", nc.verify_url_template},
                                    {"ECD_MANAGE_URL_TEMPLATE", nc.manage_url_template}}) {
    if (value.empty()) {
      spdlog::warn("{} is not set: mails give codes and participant keys without a link", name);
    }
  }
  ecd::notifications::Notifier notifier(
      store, catalogue, materials, *templates, page_tokens,
      {nc.smtp.from_name, nc.smtp.from_address, nc.verify_url_template, nc.manage_url_template});
  ecd::notifications::Mailer mailer(nc.smtp);
  ecd::notifications::Sender sender(store, mailer, nc.sender);
  sender.Start();
  ecd::notifications::Planner planner(pool, store, catalogue, notifier, materials, nc.planner);
  planner.Start();
  ecd::Authenticator auth(std::move(start.tokens), ecd::notifications::NotificationRoles());
  ecd::ServiceHost host(config, ecd::notifications::kServiceName);
  ecd::CallHandler calls(auth, host.workers(), "notifications.ecd",
                         "ecd.notifications.v1.NotificationService");
  ecd::notifications::NotificationServiceImpl service(notifier, calls);
  host.AddService(&service);
  host.AddDependency({"postgresql", [&pool] { return pool.Probe(); }, true});
  // The queue as PostgreSQL holds it, when metrics are served.
  ecd::PeriodicTask watcher("metrics", config.metrics_interval, [&] {
    auto stats = store.QueueStats();
    if (!stats.ok()) {
      spdlog::warn("metrics: {}", stats.status().ToString());
      return;
    }
    ecd::Gauge("ecd_messages_queue_depth", "Messages waiting to be sent (due or awaiting a retry).")
        .Set(static_cast<double>(stats->first));
    ecd::Gauge("ecd_messages_oldest_unsent_age_seconds",
               "Age of the oldest message still waiting to be sent.")
        .Set(stats->second);
  });
  if (!config.metrics_address.empty()) watcher.Start();
  int code = host.Run();
  watcher.Stop();
  planner.Stop();
  sender.Stop();
  return code;
}
