#pragma once
// The gRPC server bootstrap every service uses: callback API, standard health service whose
// status follows the real dependencies, reflection, bounded message sizes, optional TLS, one log
// line per call, and a graceful shutdown on SIGTERM/SIGINT (health NOT_SERVING, stop accepting,
// in-flight calls finish within ECD_SHUTDOWN_DEADLINE_MS).
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/auth.hpp"
#include "common/config.hpp"
#include "common/grpc_status.hpp"
#include "common/logging.hpp"
#include "common/status.hpp"
#include "common/trace.hpp"
#include "common/worker_pool.hpp"

namespace ecd {

// Call this first in main(), before any thread starts, so that only the host's sigwait sees
// SIGTERM and SIGINT.
void BlockShutdownSignals();

class CallHandler;

// The answer to one unary call (CallHandler). Fill the response first, then call it with the
// status: the call ends and is logged, under the call's own trace whatever the thread. Only the
// first answer counts. Copies share it; if the last copy goes unanswered, the call ends INTERNAL
// (and an error is logged), so that no client waits for ever.
class Reply {
 public:
  void operator()(const Status& s) const;

 private:
  friend class CallHandler;
  struct Call {
    Call(CallHandler& h, grpc::ServerUnaryReactor* r, std::string_view m,
         std::chrono::steady_clock::time_point t, const CallContext& c)
        : handler(h),
          reactor(r),
          method(m),
          start(t),
          request_id(c.request_id),
          role(c.role),
          trace(c.trace) {}
    ~Call();
    void Answer(const Status& s);
    CallHandler& handler;
    grpc::ServerUnaryReactor* const reactor;
    const std::string_view method;  // a string literal
    const std::chrono::steady_clock::time_point start;
    const std::string request_id;
    const Role role;
    const TraceContext trace;
    std::atomic<bool> answered{false};
  };
  explicit Reply(std::shared_ptr<Call> call) : call_(std::move(call)) {}
  std::shared_ptr<Call> call_;
};

// Authorises, queues the work on the worker pool, finishes the reactor with the mapped status and
// logs the call. Service adapters call Unary() from each callback method.
class CallHandler {
 public:
  // `service`: the full gRPC service name, like "ecd.catalogue.v1.CatalogueService" (metrics).
  // Makes every method's metrics of `service` (found in the linked protos) at once.
  CallHandler(const Authenticator& auth, WorkerPool& workers, std::string domain,
              std::string service = "");

  // `method`: the short method name (a string literal). `fn(const CallContext&) -> Status` runs
  // on a worker; it fills the response the caller captured.
  template <class Fn>
  grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* ctx, std::string_view method,
                                  Fn&& fn) {
    return UnaryInPlace(ctx, method, false, std::forward<Fn>(fn));
  }

  // Like Unary, but when `in_place` (the answer will not block: a read from memory) `fn` runs on
  // gRPC's own thread, saving the hand-over to a worker and back.
  template <class Fn>
  grpc::ServerUnaryReactor* UnaryInPlace(grpc::CallbackServerContext* ctx, std::string_view method,
                                         bool in_place, Fn&& fn) {
    return Dispatch(ctx, method, in_place,
                    [fn = std::forward<Fn>(fn)](const CallContext& call,
                                                const Reply& reply) mutable { reply(fn(call)); });
  }

  // For work that ends on another thread: `fn(const CallContext&, const Reply&)` starts on a
  // worker and returns without waiting; whoever ends the work fills the response and calls the
  // reply (a copy of it) with the status. An exception from `fn` answers INTERNAL.
  template <class Fn>
  grpc::ServerUnaryReactor* UnaryAsync(grpc::CallbackServerContext* ctx, std::string_view method,
                                       Fn&& fn) {
    return Dispatch(ctx, method, false, std::forward<Fn>(fn));
  }

  // For streaming reactors: authorise and name the call (and count it: every Begin ends in a Log).
  StatusOr<CallContext> Begin(grpc::CallbackServerContext* ctx, std::string_view method) {
    return BeginCall(ctx, method, "server_stream");
  }
  // Runs fn, turning an escaped exception into INTERNAL (logged).
  Status Guard(const std::function<Status()>& fn);
  void Log(std::string_view method, const Status& s, std::chrono::steady_clock::time_point start,
           std::string_view request_id, std::string_view role);
  grpc::Status ToGrpc(const Status& s) const { return ToGrpcStatus(s, domain_); }
  WorkerPool& workers() { return workers_; }

 private:
  friend class Reply;
  // Authorises, then runs `fn(call, reply)` on a worker (on this thread when `in_place`).
  template <class Fn>
  grpc::ServerUnaryReactor* Dispatch(grpc::CallbackServerContext* ctx, std::string_view method,
                                     bool in_place, Fn&& fn) {
    auto* reactor = ctx->DefaultReactor();
    auto start = std::chrono::steady_clock::now();
    auto call = BeginCall(ctx, method, "unary");
    if (!call.ok()) {
      Finish(reactor, method, call.status(), start, RequestId(ctx), "-");
      return reactor;
    }
    auto work = [this, reactor, method, start, call = *call, fn = std::forward<Fn>(fn)]() mutable {
      // The call's trace is the thread's while it works: log lines and outgoing calls carry it.
      ScopedTrace trace(call.trace);
      const Reply reply(std::make_shared<Reply::Call>(*this, reactor, method, start, call));
      Status s = Guard([&] {
        fn(std::as_const(call), reply);
        return Status::Ok();
      });
      if (!s.ok()) reply(s);
    };
    if (in_place) {
      work();
    } else if (!workers_.TrySubmit(std::move(work))) {
      Finish(reactor, method, Overloaded(), start, call->request_id, RoleName(call->role));
    }
    return reactor;
  }
  StatusOr<CallContext> BeginCall(grpc::CallbackServerContext* ctx, std::string_view method,
                                  const char* type);
  static std::string RequestId(grpc::CallbackServerContext* ctx);
  void Finish(grpc::ServerUnaryReactor* reactor, std::string_view method, const Status& s,
              std::chrono::steady_clock::time_point start, std::string_view request_id,
              std::string_view role);

  const Authenticator& auth_;
  WorkerPool& workers_;
  std::string domain_;
  std::string service_;
};

// Inside a CallbackService subclass with members `calls_` (a CallHandler) and `logic` (the
// service's logic object): defines the unary method `Method`, which runs
// `logic.Method(call, *request, response)` on a worker through CallHandler::Unary.
#define ECD_UNARY_METHOD(Method, logic)                                                        \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* ctx,                           \
                                   const v1::Method##Request* req, v1::Method##Response* resp) \
      override {                                                                               \
    return calls_.Unary(ctx, #Method, [this, req, resp](const ::ecd::CallContext& c) {         \
      return logic.Method(c, *req, resp);                                                      \
    });                                                                                        \
  }

struct HealthDependency {
  std::string name;
  std::function<bool()> probe;
  // A critical dependency down makes the service NOT_SERVING; a non-critical one only logs
  // (the service degrades).
  bool critical = true;
};

class ServiceHost {
 public:
  ServiceHost(const CommonConfig& config, std::string service_name);
  ~ServiceHost();
  void AddService(grpc::Service* service) { services_.push_back(service); }
  void AddDependency(HealthDependency dep) { deps_.push_back(std::move(dep)); }
  // Runs when shutdown starts, before in-flight calls drain (to end endless streams).
  void OnShutdown(std::function<void()> hook) { shutdown_hooks_.push_back(std::move(hook)); }
  // Starts serving, then blocks until SIGTERM or SIGINT and shuts down gracefully. Returns the
  // process exit code.
  int Run();
  WorkerPool& workers() { return workers_; }

 private:
  void ProbeLoop();

  const CommonConfig& config_;
  std::string service_name_;
  std::vector<grpc::Service*> services_;
  std::vector<HealthDependency> deps_;
  std::vector<std::function<void()>> shutdown_hooks_;
  WorkerPool workers_;
  std::unique_ptr<grpc::Server> server_;
  std::atomic<bool> stopping_{false};
};

// Reads a whole file (TLS material, token lists).
std::string ReadFileOrThrow(const std::string& path);

}  // namespace ecd
