// health_probe: asks a gRPC server's standard health service (grpc.health.v1.Health/Check) and
// exits 0 only when it answers SERVING. It is the health check of our container images, which
// carry no shell, grpcurl or grpc_health_probe.
//   health_probe [--address HOST:PORT] [--service NAME] [--timeout-ms N]
// The address defaults to ECD_LISTEN_ADDRESS, the variable the service in the same container
// reads (a wildcard host becomes loopback), so one command fits every image.
// Exit: 0 SERVING, 1 anything else (not serving, unreachable, timeout), 2 bad arguments.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "grpc/health/v1/health.grpc.pb.h"

namespace {

int Usage() {
  std::cerr << "usage: health_probe [--address HOST:PORT] [--service NAME] [--timeout-ms N]\n";
  return 2;
}

// "0.0.0.0:50061" listens everywhere; the probe calls it on loopback.
std::string DialAddress(std::string address) {
  for (const char* any : {"0.0.0.0:", "[::]:", "*:"}) {
    if (address.rfind(any, 0) == 0) {
      std::string loopback = std::strcmp(any, "[::]:") == 0 ? "[::1]:" : "127.0.0.1:";
      return loopback + address.substr(std::strlen(any));
    }
  }
  return address;
}

}  // namespace

int main(int argc, char** argv) {
  const char* env_address = std::getenv("ECD_LISTEN_ADDRESS");
  std::string address = env_address != nullptr ? env_address : "";
  std::string service;
  long timeout_ms = 1000;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc) return Usage();
    if (arg == "--address") {
      address = argv[++i];
    } else if (arg == "--service") {
      service = argv[++i];
    } else if (arg == "--timeout-ms") {
      char* end = nullptr;
      timeout_ms = std::strtol(argv[++i], &end, 10);
      if (*end != '\0' || timeout_ms <= 0) return Usage();
    } else {
      return Usage();
    }
  }
  if (address.empty()) {
    std::cerr << "health_probe: no --address and no ECD_LISTEN_ADDRESS\n";
    return 2;
  }
  address = DialAddress(address);

  auto stub = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
  grpc::health::v1::HealthCheckRequest req;
  req.set_service(service);
  grpc::health::v1::HealthCheckResponse resp;
  grpc::Status st = stub->Check(&ctx, req, &resp);
  if (!st.ok()) {
    std::cerr << "health_probe: " << address << ": " << st.error_code() << " " << st.error_message()
              << "\n";
    return 1;
  }
  std::cout << grpc::health::v1::HealthCheckResponse::ServingStatus_Name(resp.status()) << "\n";
  return resp.status() == grpc::health::v1::HealthCheckResponse::SERVING ? 0 : 1;
}
