// A load generator of ours for the benchmark (scripts/bench): many calls in flight from a pool of
// client threads over several connections, for a bounded time and a bounded number of calls.
// Prints one line per method: calls, throughput, p50 and p99 latency.
//   ecd_load --address 127.0.0.1:50061 --token-file .local/admin.token
//            --method health|get|list|register --concurrency 32 --seconds 10 [--max-calls N]
//            [--events events/a,events/b --countries NG,GH,...]   (register: spread over these)
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <thread>
#include <vector>

#include "ecd/catalogue/v1/catalogue.grpc.pb.h"
#include "ecd/registration/v1/registration.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace v1 = ::ecd::catalogue::v1;

struct Options {
  std::string address = "127.0.0.1:50061";
  std::string token;
  std::string method = "health";
  std::string event = "events/5eed0000-0000-4000-8000-000000000011";
  int concurrency = 32;
  int seconds = 10;
  long max_calls = 5'000'000;
  int connections = 4;
  std::vector<std::string> events;
  std::vector<std::string> countries;
};

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t comma = s.find(',', pos);
    if (comma == std::string::npos) comma = s.size();
    if (comma > pos) out.push_back(s.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return out;
}

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--address")
      o.address = v;
    else if (k == "--token-file")
      std::getline(std::ifstream(v), o.token);
    else if (k == "--method")
      o.method = v;
    else if (k == "--event")
      o.event = v;
    else if (k == "--concurrency")
      o.concurrency = std::stoi(v);
    else if (k == "--seconds")
      o.seconds = std::stoi(v);
    else if (k == "--max-calls")
      o.max_calls = std::stol(v);
    else if (k == "--connections")
      o.connections = std::stoi(v);
    else if (k == "--events")
      o.events = Split(v);
    else if (k == "--countries")
      o.countries = Split(v);
    else
      throw std::invalid_argument("unknown option " + k);
  }
  if (o.method != "health" && o.method != "get" && o.method != "list" && o.method != "register") {
    throw std::invalid_argument("--method must be health, get, list or register");
  }
  if (o.method == "register" && (o.events.empty() || o.countries.empty())) {
    throw std::invalid_argument("register needs --events and --countries");
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  try {
    o = Parse(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "ecd_load: " << e.what() << "\n";
    return 2;
  }
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < o.connections; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("ecd.bench.connection", i);  // distinct arguments: a connection each
    channels.push_back(
        grpc::CreateCustomChannel(o.address, grpc::InsecureChannelCredentials(), args));
  }
  std::atomic<long> issued{0};
  std::atomic<long> errors{0};
  std::vector<std::vector<double>> latencies(o.concurrency);
  const auto start = Clock::now();
  const auto end = start + std::chrono::seconds(o.seconds);
  std::vector<std::thread> threads;
  for (int t = 0; t < o.concurrency; ++t) {
    threads.emplace_back([&, t] {
      auto channel = channels[t % channels.size()];
      auto health = grpc::health::v1::Health::NewStub(channel);
      auto catalogue = v1::CatalogueService::NewStub(channel);
      auto registration = ecd::registration::v1::RegistrationService::NewStub(channel);
      long n = 0;
      auto& mine = latencies[t];
      mine.reserve(100000);
      while (Clock::now() < end && issued.fetch_add(1) < o.max_calls) {
        grpc::ClientContext ctx;
        ctx.AddMetadata("authorization", "Bearer " + o.token);
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
        auto t0 = Clock::now();
        grpc::Status st;
        if (o.method == "health") {
          grpc::health::v1::HealthCheckRequest req;
          grpc::health::v1::HealthCheckResponse resp;
          st = health->Check(&ctx, req, &resp);
        } else if (o.method == "get") {
          v1::GetEventRequest req;
          req.set_name(o.event);
          v1::GetEventResponse resp;
          st = catalogue->GetEvent(&ctx, req, &resp);
        } else if (o.method == "register") {
          // Spread over events and countries; every participant new (a unique email and key).
          ++n;
          ecd::registration::v1::RegisterRequest req;
          req.set_event(o.events[(t + n) % o.events.size()]);
          req.set_request_id("bench-" + std::to_string(start.time_since_epoch().count()) + "-" +
                             std::to_string(t) + "-" + std::to_string(n));
          auto* p = req.mutable_participant();
          p->set_given_name("Bench");
          p->set_family_name("Participant");
          p->set_email(req.request_id() + "@bench.example.org");
          p->set_country_code(o.countries[(t * 7 + n) % o.countries.size()]);
          p->set_affiliation(ecd::registration::v1::AFFILIATION_OTHER);
          p->set_preferred_language("en");
          p->set_time_zone("UTC");
          p->set_privacy_consent(true);
          ecd::registration::v1::RegisterResponse resp;
          st = registration->Register(&ctx, req, &resp);
        } else {
          v1::ListEventsRequest req;
          req.set_page_size(5);
          v1::ListEventsResponse resp;
          st = catalogue->ListEvents(&ctx, req, &resp);
        }
        auto us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
        if (st.ok()) {
          mine.push_back(us);
        } else if (errors.fetch_add(1) == 0) {
          std::cerr << "first error: " << st.error_code() << " " << st.error_message() << "\n";
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& v : latencies) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    return all.empty() ? 0.0 : all[std::min(all.size() - 1, static_cast<size_t>(p * all.size()))];
  };
  std::printf("method=%s calls=%zu errors=%ld seconds=%.2f rps=%.0f p50_ms=%.3f p99_ms=%.3f\n",
              o.method.c_str(), all.size(), errors.load(), elapsed, all.size() / elapsed,
              pct(0.50) / 1000.0, pct(0.99) / 1000.0);
  return errors.load() == 0 ? 0 : 1;
}
