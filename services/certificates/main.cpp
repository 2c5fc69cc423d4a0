// certificates: the CertificateService binary.
//   certificates            serve (migrates first)
//   certificates --migrate  apply the schema migrations and exit
//   certificates --generate-key FILE  write a new Ed25519 private key (PEM) and print its id
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "common/catalogue_client.hpp"
#include "common/config.hpp"
#include "common/migrations.hpp"
#include "common/periodic_task.hpp"
#include "common/pg.hpp"
#include "common/server.hpp"
#include "common/startup.hpp"
#include "services/certificates/courier.hpp"
#include "services/certificates/issuer.hpp"
#include "services/certificates/service.hpp"

namespace ecd::certificates {
const std::vector<ecd::Migration>& Migrations();
}

namespace {

struct CertificatesConfig {
  ecd::CatalogueClient::Options catalogue;
  std::string registration_address;
  std::string signing_key_pem;
  std::vector<std::string> verify_key_pems;
  ecd::certificates::IssuerOptions issuer;
  std::string notifications_address;  // "" when off
  std::chrono::milliseconds courier_poll{2000};
  std::chrono::milliseconds erasure_poll{30000};
};

CertificatesConfig LoadCertificatesConfig(ecd::Env& env) {
  CertificatesConfig c;
  c.catalogue = ecd::CatalogueClient::Options::Load(env);
  c.registration_address = env.Address("ECD_REGISTRATION_ADDRESS", "127.0.0.1:50062");
  c.signing_key_pem = env.Secret("ECD_SIGNING_KEY");
  if (c.signing_key_pem.empty()) {
    env.Fail("ECD_SIGNING_KEY_FILE", "required: the Ed25519 private key (PEM) that signs");
  }
  // Previous keys that still verify: PEM files, comma-separated.
  std::string files = env.String("ECD_VERIFY_KEY_FILES", "");
  size_t pos = 0;
  while (pos < files.size()) {
    size_t comma = files.find(',', pos);
    if (comma == std::string::npos) comma = files.size();
    std::string file = files.substr(pos, comma - pos);
    pos = comma + 1;
    if (file.empty()) continue;
    std::ifstream in(file);
    if (!in) {
      env.Fail("ECD_VERIFY_KEY_FILES", "cannot read " + file);
      continue;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    c.verify_key_pems.push_back(ss.str());
  }
  c.issuer.issuer = env.String("ECD_CERTIFICATE_ISSUER", c.issuer.issuer);
  c.issuer.verify_url_prefix = env.String("ECD_VERIFY_URL_PREFIX", "");
  // The fonts of the PDF, colon-separated; each must exist (checked by a test render at start).
  const std::string fonts = env.String("ECD_CERTIFICATE_FONTS", "");
  for (size_t from = 0; from < fonts.size();) {
    size_t colon = std::min(fonts.find(':', from), fonts.size());
    if (colon > from) c.issuer.font_files.push_back(fonts.substr(from, colon - from));
    from = colon + 1;
  }
  c.issuer.credential_issuer = env.String("ECD_CREDENTIAL_ISSUER", "");
  if (env.String("ECD_NOTIFICATIONS_ADDRESS", "") != "off") {
    c.notifications_address = env.Address("ECD_NOTIFICATIONS_ADDRESS", "127.0.0.1:50063");
  }
  c.courier_poll = env.Millis("ECD_COURIER_INTERVAL_MS", 2000, 50, 600000);
  c.erasure_poll = env.Millis("ECD_ERASURE_INTERVAL_MS", 30000, 50, 3600000);
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  ecd::BlockShutdownSignals();
  if (argc == 3 && std::strcmp(argv[1], "--generate-key") == 0) {
    std::string pem = ecd::certificates::Keyring::GeneratePrivateKeyPem();
    std::ofstream(argv[2]) << pem;
    auto keys = ecd::certificates::Keyring::FromPem(pem, {});
    std::cout << "key id " << keys->signing_key_id() << " written to " << argv[2] << "\n";
    return 0;
  }
  ecd::Startup start;
  CertificatesConfig cc;
  if (auto exit = ecd::Start(
          argc, argv, "certificates", "127.0.0.1:50064", 4 << 20, {"--migrate"},
          [&](ecd::Env& env) { cc = LoadCertificatesConfig(env); }, &start)) {
    return *exit;
  }
  const ecd::CommonConfig& config = start.config;
  const bool migrate_only = start.mode == "--migrate";
  ecd::PgPool pool(
      {config.pg_url, config.pg_pool_size, config.pg_acquire_timeout, config.pg_statement_timeout});
  if (auto st = ecd::MigrateWhenReady(pool, "certificates", ecd::certificates::Migrations(),
                                      config.pg_startup_timeout);
      !st.ok()) {
    spdlog::critical("cannot migrate: {}", st.ToString());
    return 1;
  }
  if (migrate_only) return 0;
  auto keys = ecd::certificates::Keyring::FromPem(cc.signing_key_pem, cc.verify_key_pems);
  if (!keys.ok()) {
    spdlog::critical("signing keys: {}", keys.status().ToString());
    return 2;
  }
  spdlog::info("signing with key {}", keys->signing_key_id());
  // The fonts load, or the service does not start: a certificate must never fail for want of them.
  ecd::certificates::DocumentOptions doc;
  doc.font_files = cc.issuer.font_files;
  if (auto glyphs = ecd::certificates::UnknownGlyphs("Zoë 李小龙 محمد", doc); !glyphs.ok()) {
    spdlog::critical("certificate fonts: {}", glyphs.status().ToString());
    return 2;
  }

  ecd::certificates::Store store(pool);
  ecd::CatalogueClient catalogue(cc.catalogue);
  ecd::certificates::RegistrationClient registrations(cc.registration_address, cc.catalogue.token);
  ecd::PageTokens page_tokens(config.page_token_secret);
  ecd::certificates::Issuer issuer(store, catalogue, registrations, *keys, page_tokens, cc.issuer);
  ecd::Authenticator auth(std::move(start.tokens), ecd::certificates::CertificateRoles());
  ecd::ServiceHost host(config, ecd::certificates::kServiceName);
  ecd::CallHandler calls(auth, host.workers(), "certificates.ecd",
                         "ecd.certificates.v1.CertificateService");
  ecd::certificates::CertificateServiceImpl service(issuer, calls);
  host.AddService(&service);
  host.AddDependency({"postgresql", [&pool] { return pool.Probe(); }, true});
  std::unique_ptr<ecd::certificates::Courier> courier;
  if (!cc.notifications_address.empty()) {
    courier = std::make_unique<ecd::certificates::Courier>(store, cc.notifications_address,
                                                           cc.catalogue.token, cc.courier_poll);
    courier->Start();
  } else {
    spdlog::warn("ECD_NOTIFICATIONS_ADDRESS=off: certificates are not mailed");
  }
  // Follows the registration service's erasures (names leave the certificates).
  ecd::PeriodicTask eraser("erasure feed", cc.erasure_poll, [&] {
    auto erased = issuer.FollowErasures();
    if (!erased.ok()) {
      spdlog::warn("erasure feed: {}", erased.status().ToString());
    } else if (*erased > 0) {
      spdlog::info("erased the participant's data from {} certificate(s)", *erased);
    }
  });
  eraser.Start();
  eraser.Wake();  // once at start, as before
  int code = host.Run();
  eraser.Stop();
  if (courier) courier->Stop();
  return code;
}
