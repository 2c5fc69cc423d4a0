// A load generator of ours for the benchmark (scripts/bench): many calls in flight (gRPC's
// callback API, a few threads) over several connections, for a bounded time and a bounded number
// of calls.
// Prints one line per method: calls, throughput, p50 and p99 latency, and the generator's own CPU
// per call.
//   ecd_load --address 127.0.0.1:50061[,127.0.0.1:50071,...] --token-file .local/admin.token
//            --method health|get|list|register --concurrency 32 --seconds 10 [--max-calls N]
//            [--events events/a,events/b --countries NG,GH,...]   (register: spread over these)
//            [--parse-responses 1]
// The reads (health, get, list) go through gRPC's generic stub: the request is serialised once and
// each answer is kept as bytes. The generator shares the machine's CPU with the server it
// measures, and parsing five events per ListEvents answer had cost it more CPU than the server
// spent answering. The first answer of a run is still parsed and checked (a health Check answers
// SERVING, GetEvent the event asked for, ListEvents at least one event), so a run that only
// measured an error path fails. --parse-responses 1 parses every answer, as a typed client does.
#include <absl/synchronization/mutex.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <mutex>
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
  bool parse_responses = false;
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
    else if (k == "--parse-responses")
      o.parse_responses = v == "1";
    else
      throw std::invalid_argument("unknown option " + k);
  }
  if (o.method != "health" && o.method != "get" && o.method != "list" && o.method != "register") {
    throw std::invalid_argument("--method must be health, get, list or register");
  }
  if (Split(o.address).empty()) throw std::invalid_argument("--address is empty");
  if (o.method == "register" && (o.events.empty() || o.countries.empty())) {
    throw std::invalid_argument("register needs --events and --countries");
  }
  return o;
}

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// The read methods as generic calls: the method's path and its request serialised once.
struct ReadMethod {
  std::string path;
  grpc::ByteBuffer request;
};

template <typename Message>
bool Parse(grpc::ByteBuffer& buffer, Message& message) {
  grpc::Slice slice;
  if (!buffer.TrySingleSlice(&slice).ok() && !buffer.DumpToSingleSlice(&slice).ok()) return false;
  return message.ParseFromArray(slice.begin(), static_cast<int>(slice.size()));
}

ReadMethod MakeReadMethod(const Options& o) {
  ReadMethod m;
  bool own_buffer = false;
  if (o.method == "health") {
    m.path = "/grpc.health.v1.Health/Check";
    grpc::GenericSerialize<grpc::ProtoBufferWriter, grpc::health::v1::HealthCheckRequest>(
        grpc::health::v1::HealthCheckRequest(), &m.request, &own_buffer);
  } else if (o.method == "get") {
    m.path = "/ecd.catalogue.v1.CatalogueService/GetEvent";
    v1::GetEventRequest req;
    req.set_name(o.event);
    grpc::GenericSerialize<grpc::ProtoBufferWriter, v1::GetEventRequest>(req, &m.request,
                                                                         &own_buffer);
  } else {
    m.path = "/ecd.catalogue.v1.CatalogueService/ListEvents";
    v1::ListEventsRequest req;
    req.set_page_size(5);
    grpc::GenericSerialize<grpc::ProtoBufferWriter, v1::ListEventsRequest>(req, &m.request,
                                                                           &own_buffer);
  }
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  // As the services do (ecd::PrepareProcess): Debian's libabsl tracks every Mutex's lock order.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  Options o;
  try {
    o = Parse(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "ecd_load: " << e.what() << "\n";
    return 2;
  }
  // Several addresses (replicas): the connections are spread over them in turn.
  const std::vector<std::string> addresses = Split(o.address);
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < o.connections; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("ecd.bench.connection", i);  // distinct arguments: a connection each
    channels.push_back(
        grpc::CreateCustomChannel(addresses[static_cast<size_t>(i) % addresses.size()],
                                  grpc::InsecureChannelCredentials(), args));
  }
  // Many calls in flight with few threads: each of `concurrency` slots starts its next call from
  // the completion of the previous one (gRPC's callback API), so the generator's own CPU stays
  // small next to the server's.
  std::atomic<long> issued{0};
  std::atomic<long> errors{0};
  std::atomic<bool> checked{false};
  std::string check_failure;            // set once, under mu
  std::atomic<size_t> answer_bytes{0};  // of the answer checked
  const bool generic = o.method != "register" && !o.parse_responses;
  const ReadMethod read = o.method == "register" ? ReadMethod{} : MakeReadMethod(o);
  const double cpu0 = CpuSeconds();
  std::mutex mu;
  std::condition_variable cv;
  int active = o.concurrency;
  std::vector<double> all;
  all.reserve(1 << 20);
  const auto start = Clock::now();
  const auto end = start + std::chrono::seconds(o.seconds);
  std::vector<std::unique_ptr<grpc::health::v1::Health::Stub>> health;
  std::vector<std::unique_ptr<v1::CatalogueService::Stub>> catalogue;
  std::vector<std::unique_ptr<ecd::registration::v1::RegistrationService::Stub>> registration;
  std::vector<std::unique_ptr<grpc::GenericStub>> generic_stubs;
  for (auto& channel : channels) {
    generic_stubs.push_back(std::make_unique<grpc::GenericStub>(channel));
    health.push_back(grpc::health::v1::Health::NewStub(channel));
    catalogue.push_back(v1::CatalogueService::NewStub(channel));
    registration.push_back(ecd::registration::v1::RegistrationService::NewStub(channel));
  }
  const std::string run_id = std::to_string(start.time_since_epoch().count());

  struct Call {
    grpc::ClientContext ctx;
    grpc::health::v1::HealthCheckRequest health_req;
    grpc::health::v1::HealthCheckResponse health_resp;
    v1::GetEventRequest get_req;
    v1::GetEventResponse get_resp;
    v1::ListEventsRequest list_req;
    v1::ListEventsResponse list_resp;
    ecd::registration::v1::RegisterRequest reg_req;
    ecd::registration::v1::RegisterResponse reg_resp;
    grpc::ByteBuffer request;
    grpc::ByteBuffer response;
    Clock::time_point t0;

    // The typed answer of `method` (a generic call's bytes are parsed into it to be checked).
    google::protobuf::MessageLite& Answer(const std::string& method) {
      if (method == "health") return health_resp;
      if (method == "get") return get_resp;
      if (method == "list") return list_resp;
      return reg_resp;
    }
    // "" when the answer is what was asked.
    std::string Check(const Options& o) const {
      if (o.method == "health") {
        return health_resp.status() == grpc::health::v1::HealthCheckResponse::SERVING
                   ? ""
                   : "health: not SERVING";
      }
      if (o.method == "get") {
        return get_resp.event().name() == o.event ? "" : "get: answered " + get_resp.event().name();
      }
      if (o.method == "list") return list_resp.events_size() > 0 ? "" : "list: no events";
      return reg_resp.registration().name().empty() || reg_resp.participant_key().empty()
                 ? "register: no registration or key in the answer"
                 : "";
    }
  };
  std::function<void(int)> launch = [&](int slot) {
    long n = issued.fetch_add(1);
    if (Clock::now() >= end || n >= o.max_calls) {
      std::lock_guard<std::mutex> lock(mu);
      if (--active == 0) cv.notify_all();
      return;
    }
    auto* call = new Call();
    call->ctx.AddMetadata("authorization", "Bearer " + o.token);
    call->ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    auto done = [&, call, slot](grpc::Status st) {
      const double us = std::chrono::duration<double, std::micro>(Clock::now() - call->t0).count();
      if (st.ok()) {
        std::string failure;
        if (!checked.exchange(true)) {
          google::protobuf::MessageLite& answer = call->Answer(o.method);
          if (generic && !Parse(call->response, answer)) {
            failure = o.method + ": answer does not parse";
          } else {
            failure = call->Check(o);
          }
          answer_bytes = answer.ByteSizeLong();
        }
        std::lock_guard<std::mutex> lock(mu);
        if (!failure.empty() && check_failure.empty()) check_failure = failure;
        all.push_back(us);
      } else if (errors.fetch_add(1) == 0) {
        std::cerr << "first error: " << st.error_code() << " " << st.error_message() << "\n";
      }
      delete call;
      launch(slot);
    };
    const size_t c = static_cast<size_t>(slot) % channels.size();
    call->t0 = Clock::now();
    if (generic) {
      call->request = read.request;  // shares the serialised bytes
      generic_stubs[c]->UnaryCall(&call->ctx, read.path, grpc::StubOptions(), &call->request,
                                  &call->response, done);
    } else if (o.method == "health") {
      health[c]->async()->Check(&call->ctx, &call->health_req, &call->health_resp, done);
    } else if (o.method == "get") {
      call->get_req.set_name(o.event);
      catalogue[c]->async()->GetEvent(&call->ctx, &call->get_req, &call->get_resp, done);
    } else if (o.method == "list") {
      call->list_req.set_page_size(5);
      catalogue[c]->async()->ListEvents(&call->ctx, &call->list_req, &call->list_resp, done);
    } else {
      // Spread over events and countries; every participant new (a unique email and key).
      auto& req = call->reg_req;
      req.set_event(o.events[static_cast<size_t>(n) % o.events.size()]);
      req.set_request_id("bench-" + run_id + "-" + std::to_string(n));
      auto* p = req.mutable_participant();
      p->set_given_name("Bench");
      p->set_family_name("Participant");
      p->set_email(req.request_id() + "@bench.example.org");
      p->set_country_code(o.countries[static_cast<size_t>(n * 7 + slot) % o.countries.size()]);
      p->set_affiliation(ecd::registration::v1::AFFILIATION_OTHER);
      p->set_preferred_language("en");
      p->set_time_zone("UTC");
      p->set_privacy_consent(true);
      registration[c]->async()->Register(&call->ctx, &call->reg_req, &call->reg_resp, done);
    }
  };
  for (int slot = 0; slot < o.concurrency; ++slot) launch(slot);
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return active == 0; });
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    return all.empty() ? 0.0 : all[std::min(all.size() - 1, static_cast<size_t>(p * all.size()))];
  };
  const double cpu_us_per_call =
      all.empty() ? 0.0 : (CpuSeconds() - cpu0) * 1e6 / static_cast<double>(all.size());
  std::printf(
      "method=%s calls=%zu errors=%ld seconds=%.2f rps=%.0f p50_ms=%.3f p99_ms=%.3f "
      "client_cpu_us=%.1f answer_bytes=%zu\n",
      o.method.c_str(), all.size(), errors.load(), elapsed, all.size() / elapsed,
      pct(0.50) / 1000.0, pct(0.99) / 1000.0, cpu_us_per_call, answer_bytes.load());
  if (!check_failure.empty()) {
    std::cerr << "ecd_load: wrong answer: " << check_failure << "\n";
    return 1;
  }
  return errors.load() == 0 ? 0 : 1;
}
