#pragma once
// Hands each new certificate to the notifications service, which mails it to the participant with
// the PDF attached. Certificates not yet handed over are found in the database (so a crash or an
// unreachable notifications service only delays them), claimed for a lease and committed before
// the call (so replicas do not both send, and no transaction waits on the network), and marked
// once acknowledged; notifications sends each once.
#include <chrono>
#include <memory>
#include <string>

#include "common/periodic_task.hpp"

namespace ecd::certificates {

class Store;

class Courier {
 public:
  Courier(Store& store, const std::string& notifications_address, std::string token,
          std::chrono::milliseconds poll);
  ~Courier();
  void Start() { task_.Start(); }
  void Stop() { task_.Stop(); }
  // One round: claim, call, record. Returns how many were handed over.
  int RunOnce();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  Store& store_;
  std::string token_;
  PeriodicTask task_;
};

}  // namespace ecd::certificates
