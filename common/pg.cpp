#include "common/pg.hpp"

#include <spdlog/spdlog.h>

#include <cstdlib>

#include "common/crypto.hpp"
#include "common/metrics.hpp"

namespace ecd {

Status StatusOfSqlState(const std::string& state, const std::string& message) {
  if (state == "23505") return Status::AlreadyExists("ALREADY_EXISTS", "already exists");
  if (state == "23503") {
    return Status::FailedPrecondition("REFERENCED_RESOURCE_MISSING",
                                      "a referenced resource does not exist");
  }
  if (state == "23514" || state == "23502" || state == "23P01") {
    return Status::FailedPrecondition("CONSTRAINT_VIOLATED",
                                      "the change would break a rule of the data");
  }
  if (state == "40001" || state == "40P01") {
    return {Code::kAborted, "CONCURRENT_UPDATE", "concurrent update, try again"};
  }
  if (state == "57014") {
    return {Code::kDeadlineExceeded, "STATEMENT_TIMEOUT", "the database took too long"};
  }
  if (state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" || state == "57P03") {
    return Status::Unavailable("DATABASE_UNAVAILABLE", "database unavailable");
  }
  spdlog::error("database error sqlstate={} : {}", state, message);
  return Status::Internal("database error");
}

Status MapPgException(const std::exception& e) {
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) {
    return Status::Unavailable("DATABASE_UNAVAILABLE", "database connection lost");
  }
  // libpqxx 6 raises these without an sqlstate.
  if (dynamic_cast<const pqxx::statement_completion_unknown*>(&e) != nullptr) {
    return Status::Unavailable("DATABASE_UNAVAILABLE", "statement outcome unknown");
  }
  if (dynamic_cast<const pqxx::transaction_rollback*>(&e) != nullptr) {
    return {Code::kAborted, "CONCURRENT_UPDATE", "concurrent update, try again"};
  }
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    return StatusOfSqlState(sql->sqlstate(), sql->what());
  }
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr) {
    return Status::Unavailable("DATABASE_UNAVAILABLE", "commit outcome unknown");
  }
  spdlog::error("storage error: {}", e.what());
  return Status::Internal("storage error");
}

namespace {

struct PoolMetrics {
  GaugeHandle size = Gauge("ecd_pg_pool_size", "PostgreSQL connections the pool may open.");
  GaugeHandle in_use = Gauge("ecd_pg_pool_in_use", "PostgreSQL connections lent out.");
  CounterHandle waits =
      Counter("ecd_pg_pool_waits_total", "Times a call waited for a free connection.");
  HistogramHandle wait_seconds =
      Histogram("ecd_pg_pool_wait_seconds", "How long calls waited for a connection.");
  CounterHandle exhausted = Counter("ecd_pg_pool_exhausted_total",
                                    "Calls refused because no connection came free in time.");
};

PoolMetrics& Metrics() {
  static PoolMetrics m;
  return m;
}

}  // namespace

PgPool::PgPool(Options options) : options_(std::move(options)) {
  Metrics().size.Set(options_.size);
  // A bounded connect, so that a database that is down answers UNAVAILABLE rather than hang.
  setenv("PGCONNECT_TIMEOUT", "3", 0);
}

PgPool::~PgPool() = default;

PgPool::Lease::~Lease() {
  if (pool_ != nullptr && conn_) pool_->Release(std::move(conn_), broken_);
}

std::unique_ptr<pqxx::connection> PgPool::Connect() {
  auto conn = std::make_unique<pqxx::connection>(options_.url);
  pqxx::nontransaction tx(*conn);
  tx.exec("SET statement_timeout = " + std::to_string(options_.statement_timeout.count()));
  tx.commit();
  return conn;
}

StatusOr<PgPool::Lease> PgPool::Acquire() {
  std::unique_lock<std::mutex> lock(mu_);
  const auto started = std::chrono::steady_clock::now();
  auto deadline = started + options_.acquire_timeout;
  bool waited = false;
  auto lend = [&](std::unique_ptr<pqxx::connection> conn) {
    Metrics().in_use.Set(open_ - static_cast<int>(idle_.size()));
    if (waited) {
      Metrics().wait_seconds.Observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    }
    return Lease(this, std::move(conn));
  };
  for (;;) {
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return lend(std::move(conn));
    }
    if (open_ < options_.size) {
      ++open_;
      lock.unlock();
      try {
        auto conn = Connect();
        lock.lock();
        return lend(std::move(conn));
      } catch (const std::exception& e) {
        lock.lock();
        --open_;
        cv_.notify_one();
        spdlog::warn("database connection failed: {}", e.what());
        return Status::Unavailable("DATABASE_UNAVAILABLE", "cannot connect to the database");
      }
    }
    if (!waited) {
      waited = true;
      Metrics().waits.Inc();
    }
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= options_.size) {
      Metrics().exhausted.Inc();
      return Status::Unavailable("POOL_EXHAUSTED",
                                 "no database connection free within " +
                                     std::to_string(options_.acquire_timeout.count()) + " ms");
    }
  }
}

void PgPool::Release(std::unique_ptr<pqxx::connection> conn, bool broken) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (broken || !conn->is_open()) {
      --open_;
    } else {
      idle_.push_back(std::move(conn));
    }
    Metrics().in_use.Set(open_ - static_cast<int>(idle_.size()));
  }
  cv_.notify_one();
}

bool PgPool::Probe() {
  std::lock_guard<std::mutex> lock(probe_mu_);
  try {
    if (!probe_conn_ || !probe_conn_->is_open()) probe_conn_ = Connect();
    pqxx::nontransaction tx(*probe_conn_);
    tx.exec("SELECT 1");
    return true;
  } catch (const std::exception&) {
    probe_conn_.reset();
    // Pooled connections are likely broken too: drop the idle ones so calls reconnect.
    std::lock_guard<std::mutex> pool_lock(mu_);
    open_ -= static_cast<int>(idle_.size());
    idle_.clear();
    return false;
  }
}

namespace {
thread_local CommitHooks* g_hooks = nullptr;
}  // namespace

CommitHooks::CommitHooks() : previous_(g_hooks) { g_hooks = this; }
CommitHooks::~CommitHooks() { g_hooks = previous_; }

void CommitHooks::Run() {
  auto hooks = std::move(hooks_);
  hooks_.clear();
  for (auto& fn : hooks) fn();
}

void AfterCommit(std::function<void()> fn) {
  if (g_hooks != nullptr) {
    g_hooks->Add(std::move(fn));
  } else {
    fn();
  }
}

std::string ToPgArray(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

std::string ToPgByteaArray(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += "\"\\\\x";  // "\\x: the array's quoting of bytea's \x
    out += HexEncode(items[i]);
    out += '"';
  }
  out += '}';
  return out;
}

std::vector<std::string> FromPgArray(const pqxx::field& field) {
  std::vector<std::string> out;
  if (field.is_null()) return out;
  auto parser = field.as_array();
  for (auto [kind, text] = parser.get_next(); kind != pqxx::array_parser::done;
       std::tie(kind, text) = parser.get_next()) {
    if (kind == pqxx::array_parser::string_value) out.push_back(text);
  }
  return out;
}

}  // namespace ecd
