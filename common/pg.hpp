#pragma once
// PostgreSQL through libpqxx: a connection pool with a bounded wait, a transaction helper that
// retries serialization failures and deadlocks, and the one mapping of libpqxx exceptions to
// Status (unique -> ALREADY_EXISTS, check/foreign key -> FAILED_PRECONDITION, serialization or
// deadlock -> ABORTED, connection loss or pool timeout -> UNAVAILABLE, statement timeout ->
// DEADLINE_EXCEEDED, anything else -> INTERNAL). Include it only from storage code.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/status.hpp"

namespace ecd {

Status MapPgException(const std::exception& e);
// The same mapping for an SQLSTATE reported by the database itself (a PL/pgSQL function that
// caught an error in a subtransaction and returned its SQLSTATE and message).
Status StatusOfSqlState(const std::string& state, const std::string& message);

// SQL for a timestamptz column as microseconds since the epoch (bigint; exact, negative before
// 1970), the form common/time.hpp converts to and from protobuf Timestamps.
#define ECD_MICROS(col) "(extract(epoch from " col ") * 1000000)::bigint"

// A statement prepared once per connection under its name (the server parses and plans it once,
// not at every call). Services keep theirs together in a sql.hpp.
struct SqlStatement {
  const char* name;
  const char* sql;
};

// Runs `statement`, declaring it to the connection on first use (declaring it again with the
// same text costs a look-up; libpqxx prepares it on the server at its first execution).
template <class... Args>
pqxx::result Exec(pqxx::transaction_base& tx, const SqlStatement& statement, Args&&... args) {
  tx.conn().prepare(statement.name, statement.sql);
  return tx.exec_prepared(statement.name, std::forward<Args>(args)...);
}

// Runs `fn` once the transaction this thread is running through PgPool commits; dropped when it
// rolls back or is retried (so a counter incremented there counts what really happened). Outside
// a transaction, runs at once.
void AfterCommit(std::function<void()> fn);

// What a transaction attempt collected with AfterCommit (one per attempt; nested ones stack).
class CommitHooks {
 public:
  CommitHooks();
  ~CommitHooks();
  CommitHooks(const CommitHooks&) = delete;
  CommitHooks& operator=(const CommitHooks&) = delete;
  void Add(std::function<void()> fn) { hooks_.push_back(std::move(fn)); }
  // Runs them (after the commit) and forgets them.
  void Run();

 private:
  std::vector<std::function<void()>> hooks_;
  CommitHooks* previous_;
};

class PgPool {
 public:
  struct Options {
    std::string url;
    int size = 8;
    std::chrono::milliseconds acquire_timeout{2000};
    std::chrono::milliseconds statement_timeout{5000};
  };

  class Lease {
   public:
    Lease(PgPool* pool, std::unique_ptr<pqxx::connection> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    pqxx::connection& operator*() { return *conn_; }
    pqxx::connection* operator->() { return conn_.get(); }
    // The connection is not given back (it broke).
    void Discard() { broken_ = true; }

   private:
    PgPool* pool_;
    std::unique_ptr<pqxx::connection> conn_;
    bool broken_ = false;
  };

  explicit PgPool(Options options);
  ~PgPool();

  // A connection within the bounded wait, or UNAVAILABLE (POOL_EXHAUSTED / DATABASE_UNAVAILABLE).
  StatusOr<Lease> Acquire();

  // Runs fn(pqxx::work&) -> Status in one transaction; commits when it returns OK. Retries
  // serialization failures and deadlocks (up to 3 attempts), maps exceptions once.
  template <class Fn>
  Status Transact(Fn&& fn) {
    return Run<pqxx::work>(std::forward<Fn>(fn));
  }
  // For reads that need no transaction: statements run as they come, without BEGIN and COMMIT
  // (one round trip fewer each way). fn takes pqxx::transaction_base&.
  template <class Fn>
  Status Read(Fn&& fn) {
    return Run<pqxx::nontransaction>(std::forward<Fn>(fn));
  }

  // Whether the database answers, on a connection of its own (so a busy pool is not mistaken for
  // a database that is down).
  bool Probe();
  const Options& options() const { return options_; }

 private:
  template <class Tx, class Fn>
  Status Run(Fn&& fn) {
    for (int attempt = 1;; ++attempt) {
      auto lease = Acquire();
      if (!lease.ok()) return lease.status();
      Status result;
      CommitHooks hooks;
      try {
        Tx tx(**lease);
        result = fn(tx);
        if (result.ok()) {
          tx.commit();
          hooks.Run();
        }
      } catch (const pqxx::broken_connection& e) {
        lease->Discard();
        return MapPgException(e);
      } catch (const std::exception& e) {
        result = MapPgException(e);
        if (!(**lease).is_open()) lease->Discard();
      }
      if (result.code() == Code::kAborted && attempt < 3) continue;
      return result;
    }
  }

  friend class Lease;
  std::unique_ptr<pqxx::connection> Connect();
  void Release(std::unique_ptr<pqxx::connection> conn, bool broken);

  Options options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  int open_ = 0;  // idle + leased + being opened
  std::mutex probe_mu_;
  std::unique_ptr<pqxx::connection> probe_conn_;
};

// PostgreSQL array literal for text[] parameters ('{"a","b"}'), and its parser.
std::string ToPgArray(const std::vector<std::string>& items);
std::vector<std::string> FromPgArray(const pqxx::field& field);
// The same for bytea[] parameters (each item in bytea's hex form).
std::string ToPgByteaArray(const std::vector<std::string>& items);

}  // namespace ecd
