#pragma once
// Hands each new certificate to the notifications service, which mails it to the participant with
// the PDF attached. Certificates not yet handed over are found in the database (so a crash or an
// unreachable notifications service only delays them), claimed with FOR UPDATE SKIP LOCKED (so
// replicas do not both send), and marked once acknowledged; notifications sends each once.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

namespace ecd {
class PgPool;
}

namespace ecd::certificates {

class Courier {
 public:
  Courier(PgPool& pool, const std::string& notifications_address, std::string token,
          std::chrono::milliseconds poll);
  ~Courier();
  void Start();
  void Stop();

 private:
  void Loop();
  struct Impl;
  std::unique_ptr<Impl> impl_;
  PgPool& pool_;
  std::string token_;
  std::chrono::milliseconds poll_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace ecd::certificates
