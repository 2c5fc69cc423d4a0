#include "services/registration/relay.hpp"

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <pqxx/pqxx>
#include <set>

#include "common/peer_call.hpp"
#include "common/pg.hpp"
#include "ecd/notifications/v1/notifications.grpc.pb.h"
#include "services/registration/sql.hpp"

namespace ecd::registration {
namespace {

namespace nv1 = ::ecd::notifications::v1;

// Sleeps in small steps so that Stop() is prompt.
void Pause(const std::atomic<bool>& stopping, std::chrono::milliseconds total) {
  for (auto slept = std::chrono::milliseconds(0); slept < total && !stopping;
       slept += std::chrono::milliseconds(50)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace

Relay::Relay(std::string pg_url, Options options)
    : pg_url_(std::move(pg_url)), options_(std::move(options)) {}

Relay::~Relay() { Stop(); }

void Relay::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void Relay::Stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void Relay::Loop() {
  auto stub = nv1::NotificationService::NewStub(PeerChannel(options_.notifications_address));
  auto backoff = std::chrono::milliseconds(1000);
  while (!stopping_) {
    try {
      pqxx::connection conn(pg_url_);
      bool leader = false;
      while (!stopping_ && !leader) {
        pqxx::nontransaction tx(conn);
        leader = Exec(tx, sql::kRelayLeader)[0][0].as<bool>();
        if (!leader) Pause(stopping_, std::chrono::milliseconds(1000));
      }
      if (leader) spdlog::info("outbox relay: this replica delivers");
      while (!stopping_) {
        pqxx::result rows;
        {
          pqxx::nontransaction tx(conn);
          rows = Exec(tx, sql::kRelayPending, options_.batch);
        }
        if (rows.empty()) {
          Pause(stopping_, options_.poll);
          continue;
        }
        nv1::DeliverEventsRequest req;
        for (const auto& r : rows) {
          auto* ev = req.add_events();
          ev->set_event_id(r[1].as<std::string>());
          ev->set_kind(r[2].as<std::string>());
          ev->mutable_registration()->ParseFromString(pqxx::binarystring(r[3]).str());
          const int64_t micros = r[4].as<int64_t>();
          ev->mutable_occur_time()->set_seconds(micros / 1000000);
          ev->mutable_occur_time()->set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
          ev->set_secret(r[5].as<std::string>());
          ev->set_traceparent(r[6].as<std::string>());
        }
        grpc::ClientContext ctx;
        PreparePeerCall(&ctx, options_.token, std::chrono::seconds(30));
        nv1::DeliverEventsResponse resp;
        grpc::Status st = stub->DeliverEvents(&ctx, req, &resp);
        if (!st.ok()) {
          spdlog::warn("outbox relay: notifications answered {} ({}); retrying in {} ms",
                       static_cast<int>(st.error_code()), st.error_message(), backoff.count());
          Pause(stopping_, backoff);
          backoff = std::min(backoff * 2, std::chrono::milliseconds(30000));
          continue;
        }
        backoff = std::chrono::milliseconds(1000);
        std::set<std::string> acked(resp.acknowledged_event_ids().begin(),
                                    resp.acknowledged_event_ids().end());
        std::vector<std::string> ids;
        for (const auto& r : rows) {
          if (!acked.count(r[1].as<std::string>())) break;  // keep the order: stop at a gap
          ids.push_back(r[0].as<std::string>());
        }
        pqxx::nontransaction tx(conn);
        Exec(tx, sql::kRelayDelivered, ToPgArray(ids));
      }
    } catch (const std::exception& e) {
      spdlog::warn("outbox relay: {}", e.what());
      Pause(stopping_, std::chrono::milliseconds(1000));
    }
  }
}

}  // namespace ecd::registration
