#include "common/pg_listener.hpp"

#include <spdlog/spdlog.h>

#include <cctype>
#include <memory>
#include <pqxx/pqxx>

#include "common/thread_name.hpp"

namespace ecd {
namespace {

class Receiver final : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& conn, const std::string& channel,
           const std::function<void(const std::string&, const std::string&)>& fn)
      : pqxx::notification_receiver(conn, channel), fn_(fn) {}
  void operator()(const std::string& payload, int) override {
    if (fn_) fn_(channel(), payload);
  }

 private:
  const std::function<void(const std::string&, const std::string&)>& fn_;
};

// The listening session is named after the listener in pg_stat_activity (application_name), so
// that an operator, or a test, can tell it from the pool's connections.
std::string Named(const std::string& url, const std::string& name) {
  std::string app = "ecd " + name;
  for (char& c : app) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = c == ' ' ? '-' : '_';
  }
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
    return url + (url.find('?') == std::string::npos ? "?" : "&") + "application_name=" + app;
  }
  return url + " application_name=" + app;
}

}  // namespace

PgListener::PgListener(std::string name, std::string pg_url, std::vector<std::string> channels,
                       Handlers handlers, std::chrono::milliseconds probe)
    : name_(std::move(name)),
      pg_url_(Named(pg_url, name_)),
      channels_(std::move(channels)),
      handlers_(std::move(handlers)),
      probe_(probe) {}

PgListener::~PgListener() { Stop(); }

void PgListener::Start() {
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] {
    NameThisThread(name_);
    Loop();
  });
}

void PgListener::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

bool PgListener::Pause(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, d, [this] { return stopping_.load(); });
  return !stopping_;
}

void PgListener::Loop() {
  bool again = false;
  bool reported = false;  // the loss was logged (once per outage)
  while (!stopping_) {
    try {
      pqxx::connection conn(pg_url_);
      std::vector<std::unique_ptr<Receiver>> receivers;
      for (const auto& channel : channels_) {
        receivers.push_back(std::make_unique<Receiver>(conn, channel, handlers_.notify));
      }
      // LISTEN is sent when the first receiver of a channel registers; a no-op round trip makes
      // sure it took effect before anyone re-reads.
      pqxx::nontransaction(conn).exec("SELECT 1");
      connected_ = true;
      if (again) spdlog::info("{}: listening again", name_);
      reported = false;
      if (handlers_.connected) handlers_.connected(again);
      auto probed = std::chrono::steady_clock::now();
      while (!stopping_) {
        conn.await_notification(0, 200000);
        if (std::chrono::steady_clock::now() - probed >= probe_) {
          pqxx::nontransaction(conn).exec("SELECT 1");
          probed = std::chrono::steady_clock::now();
        }
      }
      connected_ = false;
    } catch (const std::exception& e) {
      const bool was = connected_.exchange(false);
      if (!reported) spdlog::warn("{}: lost the database: {}", name_, e.what());
      reported = true;
      again = true;
      if (was && handlers_.lost) handlers_.lost();
      Pause(std::chrono::seconds(1));
    }
  }
}

}  // namespace ecd
