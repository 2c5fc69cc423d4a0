#include "tests/harness/fake_smtp.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace ecd::test {
namespace {

// Reads CRLF-terminated lines from a socket.
class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}
  // False when the peer closed the connection (or it was shut down).
  bool Next(std::string* line) {
    for (;;) {
      const size_t end = buffer_.find("\r\n");
      if (end != std::string::npos) {
        *line = buffer_.substr(0, end);
        buffer_.erase(0, end + 2);
        return true;
      }
      char chunk[4096];
      const ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return false;
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

 private:
  int fd_;
  std::string buffer_;
};

void Say(int fd, const std::string& reply) {
  const std::string out = reply + "\r\n";
  (void)send(fd, out.data(), out.size(), MSG_NOSIGNAL);
}

bool StartsWith(const std::string& line, const char* command) {
  return strncasecmp(line.c_str(), command, std::char_traits<char>::length(command)) == 0;
}

}  // namespace

FakeSmtpServer::FakeSmtpServer(int mails_per_connection)
    : mails_per_connection_(mails_per_connection) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(listen_fd_, 64) != 0) {
    throw std::runtime_error("fake SMTP server: cannot listen");
  }
  socklen_t len = sizeof addr;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

FakeSmtpServer::~FakeSmtpServer() {
  stopping_ = true;
  acceptor_.join();
  close(listen_fd_);
  DropConnections();
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    workers.swap(workers_);
  }
  for (auto& t : workers) t.join();
}

std::vector<std::string> FakeSmtpServer::message_ids() const {
  std::lock_guard<std::mutex> lock(mu_);
  return message_ids_;
}

void FakeSmtpServer::DropConnections() {
  std::lock_guard<std::mutex> lock(mu_);
  for (int fd : open_) shutdown(fd, SHUT_RDWR);  // the worker sees the end and closes
}

void FakeSmtpServer::AcceptLoop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    const int fd = accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    ++connections_;
    std::lock_guard<std::mutex> lock(mu_);
    open_.insert(fd);
    workers_.emplace_back([this, fd] { Serve(fd); });
  }
}

void FakeSmtpServer::Serve(int fd) {
  LineReader in(fd);
  std::string line;
  int mails_here = 0;
  Say(fd, "220 fake.test ESMTP");
  while (in.Next(&line)) {
    if (StartsWith(line, "EHLO")) {
      Say(fd, "250-fake.test\r\n250 8BITMIME");
    } else if (StartsWith(line, "HELO") || StartsWith(line, "RSET") || StartsWith(line, "NOOP")) {
      Say(fd, "250 OK");
    } else if (StartsWith(line, "MAIL FROM:")) {
      if (mails_per_connection_ > 0 && mails_here >= mails_per_connection_) {
        Say(fd, "421 4.7.0 fake.test too many mails on one connection");
        break;
      }
      Say(fd, "250 OK");
    } else if (StartsWith(line, "RCPT TO:")) {
      Say(fd, StartsWith(line, "RCPT TO:<reject") ? "550 5.1.1 mailbox unavailable" : "250 OK");
    } else if (StartsWith(line, "DATA")) {
      Say(fd, "354 go ahead");
      std::string message_id;
      bool headers = true;
      bool complete = false;
      while (in.Next(&line)) {
        if (line == ".") {
          complete = true;
          break;
        }
        if (line.empty()) headers = false;
        if (headers && StartsWith(line, "Message-ID:")) message_id = line.substr(12);
      }
      if (!complete) break;
      ++mails_here;
      ++mails_;
      {
        std::lock_guard<std::mutex> lock(mu_);
        message_ids_.push_back(message_id);
      }
      Say(fd, "250 2.0.0 queued");
    } else if (StartsWith(line, "QUIT")) {
      Say(fd, "221 bye");
      break;
    } else {
      Say(fd, "502 5.5.2 unknown command");
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  open_.erase(fd);
  close(fd);
}

}  // namespace ecd::test
