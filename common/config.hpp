#pragma once
// Configuration from environment variables, with defaults. Every getter records what is wrong
// instead of throwing at once; Check() then throws one ConfigError naming every bad variable, so
// a misconfigured process stops at start-up with a message that says what to fix.
#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace ecd {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Env {
 public:
  using Lookup = std::function<std::optional<std::string>(const std::string&)>;
  // Reads the process environment.
  Env();
  // Reads from `lookup` (tests).
  explicit Env(Lookup lookup);

  std::string String(const std::string& name, const std::string& fallback);
  std::optional<std::string> Optional(const std::string& name);
  int64_t Int(const std::string& name, int64_t fallback, int64_t min, int64_t max);
  bool Bool(const std::string& name, bool fallback);
  std::chrono::milliseconds Millis(const std::string& name, int64_t fallback_ms, int64_t min_ms,
                                   int64_t max_ms);
  std::string OneOf(const std::string& name, const std::string& fallback,
                    std::initializer_list<const char*> choices);
  // host:port where port is 0..65535 (0 = any free port).
  std::string Address(const std::string& name, const std::string& fallback);
  // A file that must exist and be readable, if the variable is set.
  std::optional<std::string> ReadableFile(const std::string& name);
  // A secret: the contents of the file NAME_FILE (a mounted Kubernetes Secret) without its final
  // newline, else the value of NAME, else "".
  std::string Secret(const std::string& name);

  // Records a problem found by the caller's own check.
  void Fail(const std::string& name, const std::string& problem);
  // Throws ConfigError listing every problem, if any.
  void Check() const;
  const std::vector<std::string>& errors() const { return errors_; }

 private:
  Lookup lookup_;
  std::vector<std::string> errors_;
};

// What every service shares. Variables are prefixed ECD_; see the README's configuration table.
struct CommonConfig {
  std::string listen_address;
  std::string pg_url;
  int pg_pool_size = 8;
  std::chrono::milliseconds pg_acquire_timeout{2000};
  std::chrono::milliseconds pg_statement_timeout{5000};
  std::chrono::milliseconds pg_startup_timeout{30000};
  int workers = 8;
  int queue_size = 1024;
  std::string log_format;  // "text" or "json"
  std::string log_level;
  std::chrono::milliseconds shutdown_deadline{10000};
  std::chrono::milliseconds health_interval{1000};
  int64_t max_message_bytes = 4 << 20;
  std::optional<std::string> tls_cert_file;
  std::optional<std::string> tls_key_file;
  std::string tokens;  // "role:sha256hex,..." (also read from ECD_TOKENS_FILE)
  std::string page_token_secret;
  std::optional<std::string> port_file;
  std::string metrics_address;                   // "" when off
  std::optional<std::string> metrics_port_file;  // where the metrics port is written (tests)
  // How often figures read from PostgreSQL (queues, seats) are refreshed in the metrics.
  std::chrono::milliseconds metrics_interval{15000};

  // `default_address` differs per service; `default_max_message` lets a service that takes
  // uploads raise the bound.
  static CommonConfig Load(Env& env, const std::string& default_address,
                           int64_t default_max_message = 4 << 20);
};

}  // namespace ecd
