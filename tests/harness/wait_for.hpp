#pragma once
// Polling until a condition holds, for tests that cannot be told when it does (another thread's
// progress, a row in the database). Header-only, so that unit tests use it without linking the
// harness.
#include <chrono>
#include <thread>

namespace ecd::test {

// Whether `done` came true within `limit`, looked at every `poll`.
template <class Predicate>
bool WaitFor(Predicate done, std::chrono::milliseconds limit = std::chrono::seconds(30),
             std::chrono::milliseconds poll = std::chrono::milliseconds(1)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(poll);
  }
  return true;
}

}  // namespace ecd::test
