#pragma once
// A small SMTP server inside the test's own process, on a free loopback port, that counts what a
// client does to it: connections opened, mails accepted (with their Message-ID). Recipients
// starting with "reject" are refused for good (550). It can end every open connection at once (as
// a server's idle timeout does), and end each connection after a number of mails with a 421 (as
// relays that limit mails per connection do).
#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace ecd::test {

class FakeSmtpServer {
 public:
  // `mails_per_connection`: 0 for no limit.
  explicit FakeSmtpServer(int mails_per_connection = 0);
  ~FakeSmtpServer();
  FakeSmtpServer(const FakeSmtpServer&) = delete;
  FakeSmtpServer& operator=(const FakeSmtpServer&) = delete;

  int port() const { return port_; }
  std::string url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }
  int connections() const { return connections_; }
  int mails() const { return mails_; }
  // The Message-ID header of every mail accepted, in order.
  std::vector<std::string> message_ids() const;
  // Closes every open connection from the server's side.
  void DropConnections();

 private:
  void AcceptLoop();
  void Serve(int fd);

  const int mails_per_connection_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> mails_{0};
  mutable std::mutex mu_;
  std::set<int> open_;
  std::vector<std::string> message_ids_;
  std::vector<std::thread> workers_;
  std::thread acceptor_;
};

}  // namespace ecd::test
