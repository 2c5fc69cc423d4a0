// CallHandler's calls answered later, from another thread (UnaryAsync), against a real gRPC server
// and client: the answer reaches the caller, the call's log line carries the call's own trace
// whatever thread answers, only the first answer counts, and a call nobody answers ends INTERNAL
// instead of hanging.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/crypto.hpp"
#include "common/metrics.hpp"
#include "common/server.hpp"
#include "common/trace.hpp"
#include "common/worker_pool.hpp"
#include "ecd/catalogue/v1/catalogue.grpc.pb.h"

namespace ecd {
namespace {

namespace cat = ecd::catalogue::v1;

constexpr char kToken[] = "call-handler-test-token";

// Keeps each log line with the trace its thread worked for when it was logged.
class TraceSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  struct Line {
    std::string text, trace_id;
  };
  std::vector<Line> Lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const TraceContext* t = CurrentTrace();
    lines_.push_back({std::string(msg.payload.data(), msg.payload.size()), t ? t->trace_id : ""});
  }
  void flush_() override {}

 private:
  std::vector<Line> lines_;
};

// GetEvent is answered later by the test's own thread; GetSeries never (its reply is dropped), or,
// for the name "throw", by an exception; ListSeries twice.
class Service final : public cat::CatalogueService::CallbackService {
 public:
  explicit Service(CallHandler& calls) : calls_(calls) {}

  struct Pending {
    const cat::GetEventRequest* req;
    cat::GetEventResponse* resp;
    Reply reply;
  };

  grpc::ServerUnaryReactor* GetEvent(grpc::CallbackServerContext* ctx,
                                     const cat::GetEventRequest* req,
                                     cat::GetEventResponse* resp) override {
    return calls_.UnaryAsync(ctx, "GetEvent",
                             [this, req, resp](const CallContext&, const Reply& reply) {
                               std::lock_guard lock(mu_);
                               pending_.push_back({req, resp, reply});
                               cv_.notify_all();
                             });
  }
  grpc::ServerUnaryReactor* GetSeries(grpc::CallbackServerContext* ctx,
                                      const cat::GetSeriesRequest* req,
                                      cat::GetSeriesResponse*) override {
    return calls_.UnaryAsync(ctx, "GetSeries", [req](const CallContext&, const Reply&) {
      if (req->name() == "throw") throw std::runtime_error("a handler fails");
    });
  }
  grpc::ServerUnaryReactor* ListSeries(grpc::CallbackServerContext* ctx,
                                       const cat::ListSeriesRequest*,
                                       cat::ListSeriesResponse* resp) override {
    return calls_.UnaryAsync(ctx, "ListSeries", [resp](const CallContext&, const Reply& reply) {
      resp->set_next_page_token("first");
      reply(Status::Ok());
      reply(Status::NotFound("a second answer"));
    });
  }

  // Waits for `n` GetEvent calls to be pending, and takes them.
  std::vector<Pending> Take(size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(20), [&] { return pending_.size() >= n; });
    std::vector<Pending> out(pending_.begin(), pending_.end());
    pending_.clear();
    return out;
  }

 private:
  CallHandler& calls_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> pending_;
};

TokenRegistry Tokens() {
  TokenRegistry t;
  t.Add(Sha256Hex(kToken), Role::kAdmin);
  return t;
}

class CallHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sink_ = std::make_shared<TraceSink>();
    previous_ = spdlog::default_logger();
    auto logger = std::make_shared<spdlog::logger>("call_handler_test", sink_);
    logger->set_level(spdlog::level::info);
    spdlog::set_default_logger(logger);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = cat::CatalogueService::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port_),
                                                               grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    workers_.Stop();
    spdlog::set_default_logger(previous_);
  }

  std::unique_ptr<grpc::ClientContext> Context(const std::string& request_id,
                                               const std::string& traceparent = "") {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->AddMetadata("authorization", std::string("Bearer ") + kToken);
    ctx->AddMetadata("x-request-id", request_id);
    if (!traceparent.empty()) ctx->AddMetadata("traceparent", traceparent);
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return ctx;
  }

  // The trace of the log line of the call with this request id ("" when none or no line).
  std::string TraceOfCallLine(const std::string& request_id) {
    for (const auto& line : sink_->Lines()) {
      if (line.text.find("call method=") == 0 &&
          line.text.find("request_id=" + request_id) != std::string::npos) {
        return line.trace_id.empty() ? "(none)" : line.trace_id;
      }
    }
    return "";
  }

  // How many log lines hold `text`.
  int LinesWith(const std::string& text) {
    int n = 0;
    for (const auto& line : sink_->Lines()) n += line.text.find(text) != std::string::npos ? 1 : 0;
    return n;
  }

  // GetSeries for `name` (GetSeries is never answered, or throws for "throw").
  grpc::Status GetSeries(const std::string& name, const std::string& request_id) {
    cat::GetSeriesRequest req;
    req.set_name(name);
    cat::GetSeriesResponse resp;
    auto ctx = Context(request_id);
    return stub_->GetSeries(ctx.get(), req, &resp);
  }

  std::shared_ptr<TraceSink> sink_;
  std::shared_ptr<spdlog::logger> previous_;
  Authenticator auth_{Tokens(), RoleTable{{"GetEvent", {Role::kAdmin}},
                                          {"GetSeries", {Role::kAdmin}},
                                          {"ListSeries", {Role::kAdmin}}}};
  WorkerPool workers_{2, 16};
  CallHandler calls_{auth_, workers_, "catalogue.ecd", "ecd.catalogue.v1.CatalogueService"};
  Service service_{calls_};
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<cat::CatalogueService::Stub> stub_;
};

// Two calls wait; a third thread, working for a trace of its own (like a group's leader), answers
// them in the other order. Each caller gets its own answer, and each call's log line its own trace.
TEST_F(CallHandlerTest, AnAnswerFromAnotherThreadReachesItsCallerUnderItsTrace) {
  const std::string trace_a = "4bf92f3577b34da6a3ce929d0e0e4736";
  const std::string trace_b = "0af7651916cd43dd8448eb211c80319c";
  struct Result {
    grpc::Status status;
    cat::GetEventResponse resp;
  };
  Result a, b;
  auto call = [&](const std::string& name, const std::string& trace, Result& out) {
    cat::GetEventRequest req;
    req.set_name(name);
    auto ctx = Context("req-" + name, "00-" + trace + "-00f067aa0ba902b7-01");
    out.status = stub_->GetEvent(ctx.get(), req, &out.resp);
  };
  std::thread ta(call, "events/a", trace_a, std::ref(a));
  std::thread tb(call, "events/b", trace_b, std::ref(b));
  auto pending = service_.Take(2);
  if (pending.size() != 2u) {  // answer what came, so that the callers end before failing
    for (auto& p : pending) p.reply(Status::Internal("the test gave up"));
    ta.join();
    tb.join();
    FAIL() << pending.size() << " of 2 calls reached the service";
  }
  std::thread answerer([&] {
    ScopedTrace other(ChildSpan(std::nullopt));
    for (auto it = pending.rbegin(); it != pending.rend(); ++it) {
      it->resp->mutable_event()->set_name(it->req->name());
      it->reply(Status::Ok());
    }
  });
  answerer.join();
  ta.join();
  tb.join();
  ASSERT_TRUE(a.status.ok()) << a.status.error_message();
  ASSERT_TRUE(b.status.ok()) << b.status.error_message();
  EXPECT_EQ(a.resp.event().name(), "events/a");
  EXPECT_EQ(b.resp.event().name(), "events/b");
  EXPECT_EQ(TraceOfCallLine("req-events/a"), trace_a);
  EXPECT_EQ(TraceOfCallLine("req-events/b"), trace_b);
}

TEST_F(CallHandlerTest, ACallNobodyAnswersEndsInternalInsteadOfHanging) {
  const grpc::Status st = GetSeries("series/forgotten", "req-forgotten");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INTERNAL) << st.error_message();
  EXPECT_EQ(LinesWith("GetSeries: the call was never answered"), 1);
}

TEST_F(CallHandlerTest, AThrowingHandlerAnswersInternal) {
  const grpc::Status st = GetSeries("throw", "req-throw");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INTERNAL) << st.error_message();
}

TEST_F(CallHandlerTest, OnlyTheFirstAnswerCounts) {
  cat::ListSeriesRequest req;
  cat::ListSeriesResponse resp;
  auto ctx = Context("req-twice");
  const grpc::Status st = stub_->ListSeries(ctx.get(), req, &resp);
  EXPECT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(resp.next_page_token(), "first");
  EXPECT_EQ(LinesWith("request_id=req-twice"), 1);
}

// Every method's count of calls shed as overloaded is there from the start, at 0, also for a
// method never called, so that the first calls a replica sheds count as an increase.
TEST_F(CallHandlerTest, EveryMethodsShedCountStartsAtZero) {
  const std::string text = MetricsText();
  for (const std::string method : {"ListEvents", "PublishEvent", "DownloadMaterial"}) {
    bool found = false;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("grpc_server_handled_total{", 0) == 0 &&
          line.find("grpc_method=\"" + method + "\"") != std::string::npos &&
          line.find("grpc_code=\"RESOURCE_EXHAUSTED\"") != std::string::npos) {
        found = true;
        EXPECT_EQ(line.substr(line.rfind(' ') + 1), "0") << line;
      }
    }
    EXPECT_TRUE(found) << method << " has no RESOURCE_EXHAUSTED count:\n" << text;
  }
}

}  // namespace
}  // namespace ecd
