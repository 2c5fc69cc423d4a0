#include "common/config.hpp"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace ecd {

Env::Env()
    : lookup_([](const std::string& name) -> std::optional<std::string> {
        const char* v = std::getenv(name.c_str());
        if (v == nullptr) return std::nullopt;
        return std::string(v);
      }) {}

Env::Env(Lookup lookup) : lookup_(std::move(lookup)) {}

std::optional<std::string> Env::Optional(const std::string& name) {
  auto v = lookup_(name);
  if (v && v->empty()) return std::nullopt;
  return v;
}

std::string Env::String(const std::string& name, const std::string& fallback) {
  return Optional(name).value_or(fallback);
}

int64_t Env::Int(const std::string& name, int64_t fallback, int64_t min, int64_t max) {
  auto v = Optional(name);
  if (!v) return fallback;
  try {
    size_t used = 0;
    long long n = std::stoll(*v, &used);
    if (used != v->size()) throw std::invalid_argument("trailing characters");
    if (n < min || n > max) {
      Fail(name, "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                     ", got " + *v);
      return fallback;
    }
    return n;
  } catch (const std::exception&) {
    Fail(name, "must be an integer, got '" + *v + "'");
    return fallback;
  }
}

bool Env::Bool(const std::string& name, bool fallback) {
  auto v = Optional(name);
  if (!v) return fallback;
  if (*v == "1" || *v == "true" || *v == "yes") return true;
  if (*v == "0" || *v == "false" || *v == "no") return false;
  Fail(name, "must be true or false, got '" + *v + "'");
  return fallback;
}

std::chrono::milliseconds Env::Millis(const std::string& name, int64_t fallback_ms, int64_t min_ms,
                                      int64_t max_ms) {
  return std::chrono::milliseconds(Int(name, fallback_ms, min_ms, max_ms));
}

std::string Env::OneOf(const std::string& name, const std::string& fallback,
                       std::initializer_list<const char*> choices) {
  auto v = Optional(name);
  if (!v) return fallback;
  std::string list;
  for (const char* c : choices) {
    if (*v == c) return *v;
    list += list.empty() ? c : std::string(", ") + c;
  }
  Fail(name, "must be one of " + list + ", got '" + *v + "'");
  return fallback;
}

std::string Env::Address(const std::string& name, const std::string& fallback) {
  std::string v = String(name, fallback);
  auto colon = v.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    Fail(name, "must be host:port, got '" + v + "'");
    return fallback;
  }
  std::string port = v.substr(colon + 1);
  bool digits = !port.empty() && port.size() <= 5 &&
                port.find_first_not_of("0123456789") == std::string::npos;
  if (!digits || std::stol(port) > 65535) {
    Fail(name, "port must be 0..65535, got '" + port + "'");
    return fallback;
  }
  return v;
}

std::optional<std::string> Env::ReadableFile(const std::string& name) {
  auto v = Optional(name);
  if (!v) return std::nullopt;
  if (access(v->c_str(), R_OK) != 0) {
    Fail(name, "file '" + *v + "' cannot be read");
    return std::nullopt;
  }
  return v;
}

std::string Env::Secret(const std::string& name) {
  if (auto file = ReadableFile(name + "_FILE")) {
    std::ifstream in(*file, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return text;
  }
  return String(name, "");
}

void Env::Fail(const std::string& name, const std::string& problem) {
  errors_.push_back(name + ": " + problem);
}

void Env::Check() const {
  if (errors_.empty()) return;
  std::string msg = "invalid configuration:";
  for (const auto& e : errors_) msg += "\n  " + e;
  throw ConfigError(msg);
}

CommonConfig CommonConfig::Load(Env& env, const std::string& default_address,
                                int64_t default_max_message) {
  CommonConfig c;
  c.listen_address = env.Address("ECD_LISTEN_ADDRESS", default_address);
  c.pg_url = env.String("ECD_PG_URL", "postgresql://postgres@127.0.0.1:5432/ecd");
  c.pg_pool_size = static_cast<int>(env.Int("ECD_PG_POOL_SIZE", 8, 1, 256));
  c.pg_acquire_timeout = env.Millis("ECD_PG_ACQUIRE_TIMEOUT_MS", 2000, 1, 600000);
  c.pg_statement_timeout = env.Millis("ECD_PG_STATEMENT_TIMEOUT_MS", 5000, 1, 3600000);
  c.pg_startup_timeout = env.Millis("ECD_PG_STARTUP_TIMEOUT_MS", 30000, 0, 3600000);
  c.workers = static_cast<int>(env.Int("ECD_WORKERS", c.pg_pool_size, 1, 1024));
  c.queue_size = static_cast<int>(env.Int("ECD_QUEUE_SIZE", 1024, 1, 1000000));
  c.log_format = env.OneOf("ECD_LOG_FORMAT", "text", {"text", "json"});
  c.log_level = env.OneOf("ECD_LOG_LEVEL", "info", {"trace", "debug", "info", "warn", "error"});
  c.shutdown_deadline = env.Millis("ECD_SHUTDOWN_DEADLINE_MS", 10000, 0, 600000);
  c.health_interval = env.Millis("ECD_HEALTH_INTERVAL_MS", 1000, 50, 600000);
  c.max_message_bytes =
      env.Int("ECD_MAX_MESSAGE_BYTES", default_max_message, 1024, int64_t{256} << 20);
  c.tls_cert_file = env.ReadableFile("ECD_TLS_CERT_FILE");
  c.tls_key_file = env.ReadableFile("ECD_TLS_KEY_FILE");
  if (c.tls_cert_file.has_value() != c.tls_key_file.has_value()) {
    env.Fail("ECD_TLS_CERT_FILE", "ECD_TLS_CERT_FILE and ECD_TLS_KEY_FILE go together");
  }
  c.tokens = env.String("ECD_TOKENS", "");
  if (auto file = env.ReadableFile("ECD_TOKENS_FILE")) {
    std::ifstream in(*file);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    for (char& ch : text) {
      if (ch == '\n' || ch == '\r' || ch == ' ') ch = ',';
    }
    c.tokens += (c.tokens.empty() ? "" : ",") + text;
  }
  c.page_token_secret = env.String("ECD_PAGE_TOKEN_SECRET", "");
  if (!c.page_token_secret.empty() && c.page_token_secret.size() < 16) {
    env.Fail("ECD_PAGE_TOKEN_SECRET", "must be at least 16 characters");
  }
  c.port_file = env.Optional("ECD_PORT_FILE");
  if (auto m = env.Optional("ECD_METRICS_ADDRESS"); m && !m->empty() && *m != "off") {
    c.metrics_address = env.Address("ECD_METRICS_ADDRESS", "");
  }
  c.metrics_port_file = env.Optional("ECD_METRICS_PORT_FILE");
  c.metrics_interval = env.Millis("ECD_METRICS_INTERVAL_MS", 15000, 100, 600000);
  return c;
}

}  // namespace ecd
