#pragma once
// One way to run background work: `body` every `interval` on its own thread until Stop() (or
// destruction), which wakes the sleeping thread at once and waits for a run in progress.
// Exceptions from `body` are logged and the loop goes on.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace ecd {

class PeriodicTask {
 public:
  PeriodicTask(std::string name, std::chrono::milliseconds interval, std::function<void()> body);
  ~PeriodicTask();
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

  void Start();
  void Stop();
  // Runs the body as soon as the thread is free, instead of waiting for the interval.
  void Wake();

 private:
  void Loop();

  std::string name_;
  std::chrono::milliseconds interval_;
  std::function<void()> body_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool woken_ = false;
  std::thread thread_;
};

}  // namespace ecd
