#include "common/peer_call.hpp"

#include <grpcpp/support/client_interceptor.h>

#include "common/metrics.hpp"
#include "common/trace.hpp"

namespace ecd {
namespace {

using grpc::experimental::InterceptionHookPoints;

const char* GrpcCodeName(grpc::StatusCode code) {
  return CodeName(static_cast<Code>(static_cast<int>(code)));
}

// Carries the trace out and counts the call once its status is in.
class PeerInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit PeerInterceptor(grpc::experimental::ClientRpcInfo* info) : info_(info) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      start_ = std::chrono::steady_clock::now();
      const TraceContext* current = CurrentTrace();
      const TraceContext trace = current != nullptr ? *current : ChildSpan(std::nullopt);
      methods->GetSendInitialMetadata()->insert({"traceparent", Traceparent(trace)});
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_STATUS)) {
      const std::string full = info_->method() != nullptr ? info_->method() : "";
      // "/package.Service/Method"
      const size_t slash = full.rfind('/');
      const std::string service =
          slash == std::string::npos || slash == 0 ? std::string() : full.substr(1, slash - 1);
      const std::string method = slash == std::string::npos ? full : full.substr(slash + 1);
      const auto* status = methods->GetRecvStatus();
      const std::string code =
          GrpcCodeName(status != nullptr ? status->error_code() : grpc::StatusCode::UNKNOWN);
      Counter("grpc_client_handled_total", "Calls made to other services, by code.",
              {{"grpc_service", service}, {"grpc_method", method}, {"grpc_code", code}})
          .Inc();
      Histogram("grpc_client_handling_seconds", "Time other services took to answer.",
                {{"grpc_service", service}, {"grpc_method", method}})
          .Observe(
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
    }
    methods->Proceed();
  }

 private:
  grpc::experimental::ClientRpcInfo* info_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

class PeerInterceptorFactory final : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo* info) override {
    return new PeerInterceptor(info);
  }
};

}  // namespace

std::shared_ptr<grpc::Channel> PeerChannel(const std::string& address,
                                           std::shared_ptr<grpc::ChannelCredentials> credentials) {
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> factories;
  factories.push_back(std::make_unique<PeerInterceptorFactory>());
  return grpc::experimental::CreateCustomChannelWithInterceptors(
      address, std::move(credentials), grpc::ChannelArguments(), std::move(factories));
}

void PreparePeerCall(grpc::ClientContext* ctx, const std::string& token,
                     std::chrono::seconds deadline) {
  ctx->AddMetadata("authorization", "Bearer " + token);
  ctx->set_deadline(std::chrono::system_clock::now() + deadline);
}

Status PeerStatus(const grpc::Status& answer, const std::string& resource,
                  const std::string& reason, const std::string& peer) {
  if (answer.ok()) return Status::Ok();
  if (answer.error_code() == grpc::StatusCode::NOT_FOUND) return Status::NotFound(resource);
  return Status::Unavailable(reason,
                             "the " + peer + " could not be asked: " + answer.error_message());
}

}  // namespace ecd
