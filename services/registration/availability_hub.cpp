#include "services/registration/availability_hub.hpp"

#include <spdlog/spdlog.h>

#include <vector>

namespace ecd::registration {

AvailabilityHub::AvailabilityHub(std::string pg_url)
    : listener_("availability listener", std::move(pg_url), {"ecd_availability"},
                {[this](const std::string&, const std::string& event_id) { Dispatch(event_id); },
                 [this](bool again) {
                   if (again) DispatchAll();
                 },
                 nullptr}) {}

AvailabilityHub::~AvailabilityHub() { Stop(); }

void AvailabilityHub::Start() { listener_.Start(); }

void AvailabilityHub::Stop() {
  listener_.Stop();
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

void AvailabilityHub::OnEveryChange(Callback fn) {
  std::lock_guard<std::mutex> lock(mu_);
  every_change_ = std::move(fn);
}

void AvailabilityHub::Dispatch(const std::string& event_id) {
  std::vector<Callback> calls;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (every_change_) calls.push_back(every_change_);
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
    if (every_change_) calls.push_back(every_change_);
    for (auto& [h, w] : watchers_) calls.push_back(w.on_change);
  }
  for (auto& call : calls) call();
}

}  // namespace ecd::registration
