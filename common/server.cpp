#include "common/server.hpp"

#include <google/protobuf/descriptor.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "common/crypto.hpp"
#include "common/metrics.hpp"
#include "common/thread_name.hpp"
#include "grpc/health/v1/health.pb.h"

namespace ecd {
namespace {
std::mutex g_probe_mu;
std::condition_variable g_probe_cv;
}  // namespace

void BlockShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

std::string ReadFileOrThrow(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string CallHandler::RequestId(grpc::CallbackServerContext* ctx) {
  const auto& md = ctx->client_metadata();
  auto it = md.find("x-request-id");
  if (it != md.end() && !it->second.empty() && it->second.size() <= 128) {
    std::string id(it->second.data(), it->second.size());
    bool printable = true;
    for (char c : id) printable = printable && c > 0x20 && c < 0x7f;
    if (printable) return id;
  }
  return NewUuid();
}

namespace {

// Per method: its type, and the metrics every call touches (kept, not looked up per call).
struct MethodMetrics {
  std::string type;
  GaugeHandle in_flight;
  CounterHandle started;
  HistogramHandle seconds;
  std::map<std::string, CounterHandle, std::less<>> handled;  // by code
};

MethodMetrics& MetricsOf(const std::string& service, std::string_view method,
                         const char* type = nullptr) {
  static std::mutex mu;
  static auto* all = new std::map<std::string, MethodMetrics, std::less<>>();
  std::lock_guard<std::mutex> lock(mu);
  std::string key = service + "/";
  key += method;
  auto it = all->find(key);
  if (it == all->end()) {
    const std::string t = type != nullptr ? type : "unary";
    const MetricLabels labels = {
        {"grpc_service", service}, {"grpc_method", std::string(method)}, {"grpc_type", t}};
    MethodMetrics m;
    m.type = t;
    m.in_flight = Gauge("ecd_grpc_server_in_flight", "Calls being served.",
                        {{"grpc_service", service}, {"grpc_method", std::string(method)}});
    m.started = Counter("grpc_server_started_total", "Calls started.", labels);
    m.seconds = Histogram("grpc_server_handling_seconds", "Time to answer a call.", labels);
    it = all->emplace(std::move(key), std::move(m)).first;
  }
  return it->second;
}

// A method's counter of calls answered with `code` (made at 0 the first time).
CounterHandle HandledCounter(const std::string& service, std::string_view method, MethodMetrics& m,
                             Code code) {
  const std::string name = CodeName(code == Code::kUnknown ? Code::kInternal : code);
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  auto it = m.handled.find(name);
  if (it == m.handled.end()) {
    it = m.handled
             .emplace(name, Counter("grpc_server_handled_total", "Calls answered, by code.",
                                    {{"grpc_service", service},
                                     {"grpc_method", std::string(method)},
                                     {"grpc_type", m.type},
                                     {"grpc_code", name}}))
             .first;
  }
  return it->second;
}

void CountHandled(const std::string& service, std::string_view method, Code code, double seconds) {
  MethodMetrics& m = MetricsOf(service, method);
  m.in_flight.Dec();
  m.seconds.Observe(seconds);
  HandledCounter(service, method, m, code).Inc();
}

}  // namespace

CallHandler::CallHandler(const Authenticator& auth, WorkerPool& workers, std::string domain,
                         std::string service)
    : auth_(auth), workers_(workers), domain_(std::move(domain)), service_(std::move(service)) {
  // Every method's metrics from the start, with its count of calls shed as overloaded at 0: a
  // series that appears already counting shows no increase, and the first flood a replica
  // refuses, within one scrape, would not raise EcdCallsShed.
  const auto* sd = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service_);
  if (sd == nullptr) return;
  for (int i = 0; i < sd->method_count(); ++i) {
    const auto* md = sd->method(i);
    // The types BeginCall gives (streams from clients are not served here).
    MethodMetrics& m =
        MetricsOf(service_, md->name(), md->server_streaming() ? "server_stream" : "unary");
    HandledCounter(service_, md->name(), m, Code::kResourceExhausted);
  }
}

StatusOr<CallContext> CallHandler::BeginCall(grpc::CallbackServerContext* ctx,
                                             std::string_view method, const char* type) {
  MethodMetrics& m = MetricsOf(service_, method, type);
  m.started.Inc();
  m.in_flight.Inc();
  CallContext call;
  call.request_id = RequestId(ctx);
  ctx->AddInitialMetadata("x-request-id", call.request_id);
  const auto& md = ctx->client_metadata();
  // The caller's trace, when it sent a valid traceparent; a new one otherwise.
  std::optional<TraceContext> parent;
  if (auto tp = md.find("traceparent"); tp != md.end()) {
    parent = ParseTraceparent(std::string_view(tp->second.data(), tp->second.size()));
  }
  call.trace = ChildSpan(parent);
  auto it = md.find("authorization");
  std::optional<std::string_view> authz;
  if (it != md.end()) authz = std::string_view(it->second.data(), it->second.size());
  ECD_ASSIGN_OR_RETURN(auto role, auth_.Authorise(authz, method));
  call.role = role;
  return call;
}

Status CallHandler::Guard(const std::function<Status()>& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    spdlog::error("unexpected exception: {}", e.what());
    return Status::Internal("internal error");
  }
}

void CallHandler::Log(std::string_view method, const Status& s,
                      std::chrono::steady_clock::time_point start, std::string_view request_id,
                      std::string_view role) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                  start);
  CountHandled(service_, method, s.code(), static_cast<double>(us.count()) / 1e6);
  LogCall(method, CodeName(s.code()), us, request_id, role, s.ok() ? "" : s.message());
}

void Reply::operator()(const Status& s) const { call_->Answer(s); }

void Reply::Call::Answer(const Status& s) {
  if (answered.exchange(true)) return;
  ScopedTrace scoped(trace);
  handler.Finish(reactor, method, s, start, request_id, RoleName(role));
}

Reply::Call::~Call() {
  if (answered.load()) return;
  {
    ScopedTrace scoped(trace);
    spdlog::error("{}: the call was never answered", method);
  }
  Answer(Status::Internal("internal error"));
}

void CallHandler::Finish(grpc::ServerUnaryReactor* reactor, std::string_view method,
                         const Status& s, std::chrono::steady_clock::time_point start,
                         std::string_view request_id, std::string_view role) {
  Log(method, s, start, request_id, role);
  reactor->Finish(ToGrpc(s));
}

ServiceHost::ServiceHost(const CommonConfig& config, std::string service_name)
    : config_(config),
      service_name_(std::move(service_name)),
      workers_(config.workers, static_cast<size_t>(config.queue_size)) {}

ServiceHost::~ServiceHost() { workers_.Stop(); }

void ServiceHost::ProbeLoop() {
  std::optional<bool> last;
  std::vector<std::optional<bool>> last_dep(deps_.size());
  std::vector<std::optional<bool>> last_dep_status(deps_.size());
  std::vector<GaugeHandle> serving_gauge;
  for (const auto& d : deps_) {
    serving_gauge.push_back(Gauge("ecd_health_serving",
                                  "1 while the dependency answers its probe, 0 when it does not.",
                                  {{"dependency", d.name}}));
  }
  GaugeHandle overall =
      Gauge("ecd_health_serving", "1 while the dependency answers its probe, 0 when it does not.",
            {{"dependency", "server"}});
  while (!stopping_) {
    bool serving = true;
    for (size_t i = 0; i < deps_.size(); ++i) {
      bool up = deps_[i].probe();
      if (last_dep[i] != up) {
        if (up) {
          spdlog::info("dependency {} is up", deps_[i].name);
        } else {
          spdlog::warn("dependency {} is down{}", deps_[i].name,
                       deps_[i].critical ? "" : " (degraded, still serving)");
        }
        last_dep[i] = up;
      }
      if (!up && deps_[i].critical) serving = false;
      serving_gauge[i].Set(up ? 1 : 0);
      // Each dependency also has a status of its own ("postgresql", "redis"), so that a
      // degradation shows in health checks even while the service as a whole keeps serving.
      if (last_dep_status[i] != up) {
        server_->GetHealthCheckService()->SetServingStatus(deps_[i].name, up);
        last_dep_status[i] = up;
      }
    }
    if (stopping_) break;
    overall.Set(serving ? 1 : 0);
    if (last != serving) {
      auto* health = server_->GetHealthCheckService();
      health->SetServingStatus(serving);  // sets every name, the dependencies' too: set them again
      for (size_t i = 0; i < deps_.size(); ++i) {
        if (last_dep[i]) health->SetServingStatus(deps_[i].name, *last_dep[i]);
      }
      last = serving;
    }
    std::unique_lock<std::mutex> lock(g_probe_mu);
    g_probe_cv.wait_for(lock, config_.health_interval, [this] { return stopping_.load(); });
  }
}

int ServiceHost::Run() {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  // Keeps grpc.health.v1's descriptor linked in so that reflection can serve it.
  (void)grpc::health::v1::HealthCheckRequest::descriptor();

  grpc::ServerBuilder builder;
  std::shared_ptr<grpc::ServerCredentials> creds;
  if (config_.tls_cert_file && config_.tls_key_file) {
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back(
        {ReadFileOrThrow(*config_.tls_key_file), ReadFileOrThrow(*config_.tls_cert_file)});
    creds = grpc::SslServerCredentials(ssl);
  } else {
    creds = grpc::InsecureServerCredentials();
  }
  int port = 0;
  builder.AddListeningPort(config_.listen_address, creds, &port);
  builder.SetMaxReceiveMessageSize(static_cast<int>(config_.max_message_bytes));
  builder.SetMaxSendMessageSize(static_cast<int>(config_.max_message_bytes));
  for (auto* s : services_) builder.RegisterService(s);
  server_ = builder.BuildAndStart();
  if (!server_ || port == 0) {
    spdlog::critical("cannot listen on {}", config_.listen_address);
    return 1;
  }
  auto* health = server_->GetHealthCheckService();
  health->SetServingStatus(false);
  std::string host = config_.listen_address.substr(0, config_.listen_address.rfind(':'));
  spdlog::info("{} listening on {}:{} ({})", service_name_, host, port,
               creds == nullptr || !config_.tls_cert_file ? "plaintext" : "TLS");
  if (config_.port_file) {
    std::ofstream(*config_.port_file) << port << "\n";
  }
  auto metrics_port = ServeMetrics(config_.metrics_address);
  if (!metrics_port.ok()) {
    spdlog::critical("{}", metrics_port.status().message());
    return 1;
  }
  if (*metrics_port != 0) {
    std::string mhost = config_.metrics_address.substr(0, config_.metrics_address.rfind(':'));
    spdlog::info("metrics on http://{}:{}/metrics", mhost, *metrics_port);
    if (config_.metrics_port_file)
      std::ofstream(*config_.metrics_port_file) << *metrics_port << "\n";
  }
  std::thread prober([this] {
    NameThisThread("health prober");
    ProbeLoop();
  });

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int sig = 0;
  sigwait(&set, &sig);
  spdlog::info("received {}, draining for up to {} ms", sig == SIGTERM ? "SIGTERM" : "SIGINT",
               config_.shutdown_deadline.count());
  {
    std::lock_guard<std::mutex> lock(g_probe_mu);
    stopping_ = true;
  }
  g_probe_cv.notify_all();
  prober.join();
  health->Shutdown();  // NOT_SERVING for everyone watching, from now on
  for (auto& hook : shutdown_hooks_) hook();
  server_->Shutdown(std::chrono::system_clock::now() + config_.shutdown_deadline);
  workers_.Stop();
  server_->Wait();
  spdlog::info("{} stopped", service_name_);
  return 0;
}

}  // namespace ecd
