#include "common/periodic_task.hpp"

#include <spdlog/spdlog.h>

#include "common/thread_name.hpp"
#include "common/trace.hpp"

namespace ecd {

PeriodicTask::PeriodicTask(std::string name, std::chrono::milliseconds interval,
                           std::function<void()> body)
    : name_(std::move(name)), interval_(interval), body_(std::move(body)) {}

PeriodicTask::~PeriodicTask() { Stop(); }

void PeriodicTask::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] {
    NameThisThread(name_);
    Loop();
  });
}

void PeriodicTask::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void PeriodicTask::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void PeriodicTask::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, interval_, [this] { return stopping_ || woken_; });
    if (stopping_) break;
    woken_ = false;
    lock.unlock();
    try {
      // Each run is a trace of its own: its log lines, its outgoing calls and the mail it causes
      // can be told apart from the other runs'.
      ScopedTrace trace(ChildSpan(std::nullopt));
      body_();
    } catch (const std::exception& e) {
      spdlog::warn("{}: {}", name_, e.what());
    }
    lock.lock();
  }
}

}  // namespace ecd
