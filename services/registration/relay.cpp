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

}  // namespace

struct Relay::Impl {
  std::unique_ptr<nv1::NotificationService::Stub> stub;
  std::unique_ptr<pqxx::connection> conn;  // holds the lead (a session advisory lock)
  bool leader = false;
  std::chrono::milliseconds backoff{1000};
  std::chrono::steady_clock::time_point not_before{};
  std::chrono::steady_clock::time_point next_lead_try{};  // a follower's next bid for the lead
};

Relay::Relay(std::string pg_url, Options options)
    : impl_(std::make_unique<Impl>()),
      pg_url_(std::move(pg_url)),
      options_(std::move(options)),
      task_("outbox relay", options_.poll, [this] { RunOnce(); }) {
  impl_->stub = nv1::NotificationService::NewStub(PeerChannel(options_.notifications_address));
}

Relay::~Relay() { Stop(); }

void Relay::Start() {
  task_.Start();
  task_.Wake();
}

void Relay::Stop() { task_.Stop(); }

void Relay::Wake() { task_.Wake(); }

void Relay::RunOnce() {
  Impl& r = *impl_;
  if (std::chrono::steady_clock::now() < r.not_before) return;  // backing off
  try {
    if (!r.conn || !r.conn->is_open()) {
      r.conn = std::make_unique<pqxx::connection>(pg_url_);
      r.leader = false;
    }
    if (!r.leader) {
      const auto now = std::chrono::steady_clock::now();
      if (now < r.next_lead_try) return;  // woken by a change: the lead is asked for per poll
      r.next_lead_try = now + options_.poll;
      pqxx::nontransaction tx(*r.conn);
      r.leader = Exec(tx, sql::kRelayLeader)[0][0].as<bool>();
      if (!r.leader) return;  // another replica delivers; ask again next run
      spdlog::info("outbox relay: this replica delivers");
    }
    for (;;) {
      pqxx::result rows;
      {
        pqxx::nontransaction tx(*r.conn);
        rows = Exec(tx, sql::kRelayPending, options_.batch);
      }
      if (rows.empty()) return;
      nv1::DeliverEventsRequest req;
      for (const auto& row : rows) {
        auto* ev = req.add_events();
        ev->set_event_id(row[1].as<std::string>());
        ev->set_kind(row[2].as<std::string>());
        ev->mutable_registration()->ParseFromString(pqxx::binarystring(row[3]).str());
        const int64_t micros = row[4].as<int64_t>();
        ev->mutable_occur_time()->set_seconds(micros / 1000000);
        ev->mutable_occur_time()->set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
        ev->set_secret(row[5].as<std::string>());
        ev->set_traceparent(row[6].as<std::string>());
      }
      grpc::ClientContext ctx;
      PreparePeerCall(&ctx, options_.token, std::chrono::seconds(30));
      nv1::DeliverEventsResponse resp;
      grpc::Status st = r.stub->DeliverEvents(&ctx, req, &resp);
      if (!st.ok()) {
        spdlog::warn("outbox relay: notifications answered {} ({}); retrying in {} ms",
                     static_cast<int>(st.error_code()), st.error_message(), r.backoff.count());
        r.not_before = std::chrono::steady_clock::now() + r.backoff;
        r.backoff = std::min(r.backoff * 2, std::chrono::milliseconds(30000));
        return;
      }
      r.backoff = std::chrono::milliseconds(1000);
      std::set<std::string> acked(resp.acknowledged_event_ids().begin(),
                                  resp.acknowledged_event_ids().end());
      std::vector<std::string> ids;
      for (const auto& row : rows) {
        if (!acked.count(row[1].as<std::string>())) break;  // keep the order: stop at a gap
        ids.push_back(row[0].as<std::string>());
      }
      pqxx::nontransaction tx(*r.conn);
      Exec(tx, sql::kRelayDelivered, ToPgArray(ids));
      if (ids.size() < rows.size()) return;  // a gap: the rest next run
    }
  } catch (const std::exception& e) {
    spdlog::warn("outbox relay: {}", e.what());
    r.conn.reset();  // the lead goes with the connection
    r.leader = false;
    r.not_before = std::chrono::steady_clock::now() + std::chrono::milliseconds(1000);
  }
}

}  // namespace ecd::registration
