#pragma once
// The test harness: real processes and servers for integration and end-to-end tests. scripts/test
// starts one PostgreSQL and one Redis and exports ECD_TEST_PG_URL and ECD_TEST_REDIS_PORT; tests
// that must stop or restart a server start a private one here (RedisServer, PgCluster).
#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ecd::test {

// The variable's value; the test fails (throws) when it is missing: run through scripts/test.
std::string RequireEnv(const std::string& name);
int FreePort();
std::string TempDir();  // a fresh directory under ECD_TEST_TMP (or /tmp)

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
// Runs argv to completion (bounded by `timeout`), capturing stdout and stderr.
CommandResult Run(const std::vector<std::string>& argv,
                  const std::map<std::string, std::string>& env = {},
                  std::chrono::seconds timeout = std::chrono::seconds(120));

class Subprocess {
 public:
  // Starts argv with the current environment plus `env`; stdout and stderr go to `log_path`.
  Subprocess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
             const std::string& log_path);
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;
  pid_t pid() const { return pid_; }
  void Signal(int sig);

  // While it lives, the process is stopped (SIGSTOP: its connections stay open, nothing answers);
  // SIGCONT when it goes. Made once every thread of the process shows as stopped, so that
  // nothing sent afterwards can be answered.
  class Frozen {
   public:
    explicit Frozen(Subprocess& p);
    ~Frozen();
    Frozen(const Frozen&) = delete;
    Frozen& operator=(const Frozen&) = delete;

   private:
    Subprocess& p_;
  };
  // The exit status (WEXITSTATUS, or 128+signal) once it exits within `timeout`.
  std::optional<int> WaitExit(std::chrono::milliseconds timeout);
  bool Running();
  const std::string& log_path() const { return log_path_; }
  std::string Log() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_;
  std::string log_path_;
};

// A database of its own for one test binary, in the scripts/test PostgreSQL.
std::string NewDatabaseUrl(const std::string& prefix);

// A Redis server of the test's own, which it may stop and start again on the same port.
class RedisServer {
 public:
  RedisServer();
  ~RedisServer();
  int port() const { return port_; }
  void Start();
  void Stop();

 private:
  int port_;
  std::string dir_;
  std::unique_ptr<Subprocess> proc_;
};

// A PostgreSQL cluster of the test's own (initdb takes a second or two), which it may stop and
// start again on the same port.
class PgCluster {
 public:
  PgCluster();
  ~PgCluster();
  std::string url(const std::string& db = "postgres") const;
  void Start();
  void Stop();

 private:
  int port_;
  std::string dir_;
  bool running_ = false;
};

// One bearer token per role, and the ECD_TOKENS value with their hashes.
struct Tokens {
  std::string admin, frontend, integration, service;
  std::string Config() const;
};
const Tokens& TestTokens();

// A service binary started on a free port, with its own database settings.
class ServiceProcess {
 public:
  ServiceProcess(const std::string& binary, std::map<std::string, std::string> env);
  ~ServiceProcess();
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  Subprocess& process() { return *proc_; }
  // Polls grpc.health.v1.Health/Check until it answers `status` ("SERVING", "NOT_SERVING").
  bool WaitHealth(const std::string& status, std::chrono::seconds timeout,
                  const std::string& service = "");
  // The status of `service` ("" for the whole server, or a dependency like "redis").
  std::string HealthStatus(const std::string& service = "");

 private:
  std::unique_ptr<Subprocess> proc_;
  int port_ = 0;
};

// What the registration service's outbox holds for a mail about `registration`
// ("registrations/{id}") of `kind` (the newest): the verification code of "verify_email", the
// participant key of "participant_key"... "" when there is none. Tests run the registration
// service without a relay, so the outbox is where its mail waits.
std::string MailedSecret(const std::string& db_url, const std::string& registration,
                         const std::string& kind);

// buf curl against a service: `method` like "ecd.catalogue.v1.CatalogueService/ListEvents".
CommandResult BufCurl(const std::string& address, const std::string& method,
                      const std::string& json_body, const std::string& token);
std::string BufPath();

}  // namespace ecd::test
