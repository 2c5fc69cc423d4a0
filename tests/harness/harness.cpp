#include "tests/harness/harness.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "common/crypto.hpp"
#include "grpc/health/v1/health.grpc.pb.h"

extern char** environ;

namespace ecd::test {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> MergedEnv(const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> all;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos) all[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : extra) all[k] = v;
  std::vector<std::string> out;
  for (const auto& [k, v] : all) out.push_back(k + "=" + v);
  return out;
}

pid_t Spawn(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
            const std::string& out_path, const std::string& err_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0644);
  // Children must not inherit the test's blocked signals (a service waits for SIGTERM itself).
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  sigset_t dfl;
  sigemptyset(&dfl);
  sigaddset(&dfl, SIGTERM);
  sigaddset(&dfl, SIGINT);
  sigaddset(&dfl, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &dfl);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  auto env_strings = MergedEnv(env);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, args[0], &actions, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + strerror(rc));
  return pid;
}

int DecodeWait(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

bool IsRoot() { return geteuid() == 0; }

// As root, PostgreSQL's own tools must run as the postgres user.
std::vector<std::string> AsPostgres(std::vector<std::string> argv) {
  if (!IsRoot()) return argv;
  std::vector<std::string> out{"runuser", "-u", "postgres", "--"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

}  // namespace

std::string RequireEnv(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr || *v == '\0') {
    throw std::runtime_error(name + " is not set: run the tests through scripts/test");
  }
  return v;
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    throw std::runtime_error("bind to a free port failed");
  }
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

std::string TempDir() {
  const char* base = std::getenv("ECD_TEST_TMP");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/t-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  chmod(tmpl.c_str(), 0777);
  return tmpl;
}

CommandResult Run(const std::vector<std::string>& argv,
                  const std::map<std::string, std::string>& env, std::chrono::seconds timeout) {
  std::string dir = TempDir();
  std::string out = dir + "/out", err = dir + "/err";
  pid_t pid = Spawn(argv, env, out, err);
  CommandResult r;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      r.exit_code = DecodeWait(status);
      break;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      r.exit_code = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  r.out = ReadFile(out);
  r.err = ReadFile(err);
  unlink(out.c_str());
  unlink(err.c_str());
  rmdir(dir.c_str());
  return r;
}

Subprocess::Subprocess(const std::vector<std::string>& argv,
                       const std::map<std::string, std::string>& env, const std::string& log_path)
    : log_path_(log_path) {
  pid_ = Spawn(argv, env, log_path, log_path);
}

Subprocess::~Subprocess() {
  if (Running()) {
    Signal(SIGKILL);
    WaitExit(std::chrono::seconds(10));
  }
}

void Subprocess::Signal(int sig) {
  if (pid_ > 0 && !exit_) kill(pid_, sig);
}

namespace {

// Whether every thread of `pid` is stopped ('T' in /proc/<pid>/task/<tid>/stat).
bool AllThreadsStopped(pid_t pid) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  std::error_code ec;
  bool any = false;
  for (const auto& task : std::filesystem::directory_iterator(dir, ec)) {
    std::ifstream in(task.path() / "stat");
    std::string line;
    std::getline(in, line);
    const size_t close = line.rfind(')');  // the command name may hold spaces
    if (close == std::string::npos || close + 2 >= line.size()) return false;
    const char state = line[close + 2];
    if (state != 'T' && state != 't') return false;
    any = true;
  }
  return any && !ec;
}

}  // namespace

Subprocess::Frozen::Frozen(Subprocess& p) : p_(p) {
  p_.Signal(SIGSTOP);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!AllThreadsStopped(p_.pid())) {
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("process " + std::to_string(p_.pid()) + " did not stop");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

Subprocess::Frozen::~Frozen() { p_.Signal(SIGCONT); }

std::optional<int> Subprocess::WaitExit(std::chrono::milliseconds timeout) {
  if (exit_) return exit_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      exit_ = DecodeWait(status);
      return exit_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

bool Subprocess::Running() { return !WaitExit(std::chrono::milliseconds(0)).has_value(); }

std::string Subprocess::Log() const { return ReadFile(log_path_); }

std::string NewDatabaseUrl(const std::string& prefix) {
  std::string admin_url = RequireEnv("ECD_TEST_PG_URL");
  std::string name = prefix + "_" + ecd::NewUuid().substr(0, 8);
  pqxx::connection conn(admin_url);
  pqxx::nontransaction tx(conn);
  tx.exec("CREATE DATABASE " + conn.quote_name(name));
  auto slash = admin_url.rfind('/');
  return admin_url.substr(0, slash + 1) + name;
}

RedisServer::RedisServer() : port_(FreePort()), dir_(TempDir()) { Start(); }
RedisServer::~RedisServer() { Stop(); }

void RedisServer::Start() {
  proc_ = std::make_unique<Subprocess>(
      std::vector<std::string>{"redis-server", "--port", std::to_string(port_), "--bind",
                               "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir_},
      std::map<std::string, std::string>{}, dir_ + "/redis.log");
  for (int i = 0; i < 200; ++i) {
    auto r = Run({"redis-cli", "-p", std::to_string(port_), "ping"});
    if (r.out.find("PONG") != std::string::npos) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  throw std::runtime_error("redis-server did not start: " + proc_->Log());
}

void RedisServer::Stop() {
  if (!proc_) return;
  proc_->Signal(SIGTERM);
  proc_->WaitExit(std::chrono::seconds(10));
  proc_.reset();
}

PgCluster::PgCluster() : port_(FreePort()), dir_(TempDir()) {
  if (IsRoot()) Run({"chown", "-R", "postgres:postgres", dir_});
  std::string bin = RequireEnv("ECD_TEST_PG_BIN");
  auto r = Run(AsPostgres({bin + "/initdb", "-D", dir_ + "/data", "-U", "postgres", "--auth=trust",
                           "-E", "UTF8", "--locale=C.UTF-8"}));
  if (r.exit_code != 0) throw std::runtime_error("initdb failed: " + r.err);
  Start();
}

PgCluster::~PgCluster() { Stop(); }

std::string PgCluster::url(const std::string& db) const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + db;
}

void PgCluster::Start() {
  std::string bin = RequireEnv("ECD_TEST_PG_BIN");
  auto r = Run(AsPostgres({bin + "/pg_ctl", "-D", dir_ + "/data", "-l", dir_ + "/server.log", "-w",
                           "-t", "30", "-o",
                           "-p " + std::to_string(port_) + " -c listen_addresses=127.0.0.1 -k " +
                               dir_ + " -c fsync=off",
                           "start"}));
  if (r.exit_code != 0) throw std::runtime_error("pg_ctl start failed: " + r.err + r.out);
  running_ = true;
}

void PgCluster::Stop() {
  if (!running_) return;
  std::string bin = RequireEnv("ECD_TEST_PG_BIN");
  Run(AsPostgres({bin + "/pg_ctl", "-D", dir_ + "/data", "-m", "immediate", "-w", "stop"}));
  running_ = false;
}

std::string Tokens::Config() const {
  return "admin:" + Sha256Hex(admin) + ",frontend:" + Sha256Hex(frontend) +
         ",integration:" + Sha256Hex(integration) + ",service:" + Sha256Hex(service);
}

const Tokens& TestTokens() {
  static const Tokens kTokens = [] {
    Tokens t;
    t.admin = "admin-" + NewUuid();
    t.frontend = "frontend-" + NewUuid();
    t.integration = "integration-" + NewUuid();
    t.service = "service-" + NewUuid();
    return t;
  }();
  return kTokens;
}

ServiceProcess::ServiceProcess(const std::string& binary, std::map<std::string, std::string> env) {
  std::string dir = TempDir();
  std::string port_file = dir + "/port";
  env.emplace("ECD_LISTEN_ADDRESS", "127.0.0.1:0");
  env["ECD_PORT_FILE"] = port_file;
  env.emplace("ECD_TOKENS", TestTokens().Config());
  env.emplace("ECD_HEALTH_INTERVAL_MS", "100");
  env.emplace("ECD_PAGE_TOKEN_SECRET", "test-page-token-secret");
  proc_ = std::make_unique<Subprocess>(std::vector<std::string>{binary}, env, dir + "/service.log");
  for (int i = 0; i < 600; ++i) {
    std::string text = ReadFile(port_file);
    if (!text.empty() && text.back() == '\n') {
      port_ = std::stoi(text);
      return;
    }
    if (!proc_->Running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("service did not start: " + proc_->Log());
}

ServiceProcess::~ServiceProcess() {
  if (proc_ && proc_->Running()) {
    proc_->Signal(SIGTERM);
    if (!proc_->WaitExit(std::chrono::seconds(15))) proc_->Signal(SIGKILL);
  }
}

std::string ServiceProcess::HealthStatus(const std::string& service) {
  auto channel = grpc::CreateChannel(address(), grpc::InsecureChannelCredentials());
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  grpc::health::v1::HealthCheckRequest req;
  req.set_service(service);
  grpc::health::v1::HealthCheckResponse resp;
  auto st = stub->Check(&ctx, req, &resp);
  if (!st.ok()) return "ERROR " + st.error_message();
  return grpc::health::v1::HealthCheckResponse::ServingStatus_Name(resp.status());
}

bool ServiceProcess::WaitHealth(const std::string& status, std::chrono::seconds timeout,
                                const std::string& service) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (HealthStatus(service) == status) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

std::string BufPath() {
  const char* env = std::getenv("ECD_TEST_BUF");
  if (env && *env) return env;
  return ECD_SOURCE_DIR "/.local/npm/node_modules/.bin/buf";
}

CommandResult BufCurl(const std::string& address, const std::string& method,
                      const std::string& json_body, const std::string& token) {
  std::vector<std::string> argv{BufPath(), "curl", "--protocol", "grpc", "--http2-prior-knowledge"};
  if (!token.empty()) {
    argv.push_back("-H");
    argv.push_back("authorization: Bearer " + token);
  }
  if (!json_body.empty()) {
    argv.push_back("-d");
    argv.push_back(json_body);
  }
  argv.push_back("http://" + address + "/" + method);
  return Run(argv);
}

std::string MailedSecret(const std::string& db_url, const std::string& registration,
                         const std::string& kind) {
  pqxx::connection conn(db_url);
  pqxx::nontransaction tx(conn);
  auto rows = tx.exec_params(
      "SELECT secret FROM registration.outbox WHERE registration_id = $1 AND kind = $2"
      " ORDER BY id DESC LIMIT 1",
      registration.substr(registration.find('/') + 1), kind);
  return rows.empty() ? "" : rows[0][0].as<std::string>();
}

}  // namespace ecd::test
