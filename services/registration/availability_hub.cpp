#include "services/registration/availability_hub.hpp"

#include <spdlog/spdlog.h>

#include <pqxx/pqxx>
#include <vector>

namespace ecd::registration {
namespace {

class Receiver final : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& conn, std::function<void(const std::string&)> fn)
      : pqxx::notification_receiver(conn, "ecd_availability"), fn_(std::move(fn)) {}
  void operator()(const std::string& payload, int) override { fn_(payload); }

 private:
  std::function<void(const std::string&)> fn_;
};

}  // namespace

AvailabilityHub::AvailabilityHub(std::string pg_url) : pg_url_(std::move(pg_url)) {}

AvailabilityHub::~AvailabilityHub() { Stop(); }

void AvailabilityHub::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void AvailabilityHub::Stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  std::vector<Callback> closers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [h, w] : watchers_) closers.push_back(w.on_close);
    watchers_.clear();
  }
  for (auto& close : closers) close();
}

uint64_t AvailabilityHub::Subscribe(const std::string& event_id, Callback on_change,
                                    Callback on_close) {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t h = next_++;
  watchers_[h] = {event_id, std::move(on_change), std::move(on_close)};
  return h;
}

void AvailabilityHub::Unsubscribe(uint64_t handle) {
  std::lock_guard<std::mutex> lock(mu_);
  watchers_.erase(handle);
}

void AvailabilityHub::Dispatch(const std::string& event_id) {
  std::vector<Callback> calls;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [h, w] : watchers_) {
      if (w.event_id == event_id) calls.push_back(w.on_change);
    }
  }
  for (auto& call : calls) call();
}

void AvailabilityHub::DispatchAll() {
  std::vector<Callback> calls;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [h, w] : watchers_) calls.push_back(w.on_change);
  }
  for (auto& call : calls) call();
}

void AvailabilityHub::Loop() {
  bool was_down = false;
  while (!stopping_) {
    try {
      pqxx::connection conn(pg_url_);
      Receiver receiver(conn, [this](const std::string& payload) { Dispatch(payload); });
      if (was_down) {
        spdlog::info("availability listener reconnected");
        DispatchAll();
        was_down = false;
      }
      while (!stopping_) conn.await_notification(0, 200000);
    } catch (const std::exception& e) {
      if (!was_down) spdlog::warn("availability listener lost the database: {}", e.what());
      was_down = true;
      for (int i = 0; i < 10 && !stopping_; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  }
}

}  // namespace ecd::registration
