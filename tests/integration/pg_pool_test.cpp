// ecd::PgPool against the real PostgreSQL: bounded acquire, unreachable database, the transaction
// helper's commit / rollback and its mapping of database errors, and text[] literals.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "common/pg.hpp"
#include "common/status.hpp"
#include "tests/harness/harness.hpp"

namespace ecd {
namespace {

using std::chrono::milliseconds;

// One database for this file, created on first use.
const std::string& DbUrl() {
  static const std::string url = test::NewDatabaseUrl("it");
  return url;
}

PgPool::Options PoolOptions(const std::string& url, int size, milliseconds acquire_timeout,
                            milliseconds statement_timeout = milliseconds(5000)) {
  PgPool::Options o;
  o.url = url;
  o.size = size;
  o.acquire_timeout = acquire_timeout;
  o.statement_timeout = statement_timeout;
  return o;
}

// Runs one statement on a connection of its own (outside any pool under test).
pqxx::result Sql(const std::string& statement) {
  pqxx::connection conn(DbUrl());
  pqxx::nontransaction tx(conn);
  return tx.exec(statement);
}

int64_t Count(const std::string& statement) { return Sql(statement)[0][0].as<int64_t>(); }

Status SelectOne(PgPool& pool) {
  return pool.Transact([](pqxx::work& tx) -> Status {
    auto r = tx.exec("SELECT 1");
    if (r.size() != 1 || r[0][0].as<int>() != 1) return Status::Internal("SELECT 1 answered wrong");
    return Status::Ok();
  });
}

TEST(PgPoolTest, ProbeAndAcquireAgainstTheRealDatabase) {
  PgPool pool(PoolOptions(DbUrl(), 2, milliseconds(200)));
  EXPECT_TRUE(pool.Probe());
  auto lease = pool.Acquire();
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  pqxx::nontransaction tx(**lease);
  EXPECT_EQ(tx.exec("SELECT current_database()")[0][0].as<std::string>(),
            DbUrl().substr(DbUrl().rfind('/') + 1));
  // The pool sets the statement timeout on every connection it opens.
  EXPECT_EQ(tx.exec("SHOW statement_timeout")[0][0].as<std::string>(), "5s");
}

TEST(PgPoolTest, ExhaustedPoolAnswersUnavailableUntilTheLeaseIsReleased) {
  PgPool pool(PoolOptions(DbUrl(), 1, milliseconds(200)));
  {
    auto held = pool.Acquire();
    ASSERT_TRUE(held.ok()) << held.status().ToString();

    auto second = pool.Acquire();
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.status().code(), Code::kUnavailable);
    EXPECT_EQ(second.status().reason(), "POOL_EXHAUSTED");

    // Transact waits for a connection the same way.
    Status st = SelectOne(pool);
    EXPECT_EQ(st.code(), Code::kUnavailable);
    EXPECT_EQ(st.reason(), "POOL_EXHAUSTED");
  }
  auto again = pool.Acquire();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  pqxx::nontransaction tx(**again);
  EXPECT_EQ(tx.exec("SELECT 41 + 1")[0][0].as<int>(), 42);
}

TEST(PgPoolTest, WaitingAcquireGetsTheReleasedConnection) {
  // A long acquire timeout: the waiter must be woken by the release, whenever it happens.
  PgPool pool(PoolOptions(DbUrl(), 1, milliseconds(30000)));
  std::optional<StatusOr<PgPool::Lease>> held;
  held.emplace(pool.Acquire());
  ASSERT_TRUE(held->ok()) << held->status().ToString();
  Status waiter_status = Status::Internal("waiter did not run");
  std::thread waiter([&] {
    auto lease = pool.Acquire();
    if (!lease.ok()) {
      waiter_status = lease.status();
      return;
    }
    pqxx::nontransaction tx(**lease);
    waiter_status =
        tx.exec("SELECT 1")[0][0].as<int>() == 1 ? Status::Ok() : Status::Internal("wrong answer");
  });
  std::this_thread::sleep_for(milliseconds(100));
  held.reset();
  waiter.join();
  EXPECT_TRUE(waiter_status.ok()) << waiter_status.ToString();
}

TEST(PgPoolTest, UnreachableDatabaseAnswersDatabaseUnavailable) {
  const int port = test::FreePort();  // nothing listens there
  PgPool pool(PoolOptions("postgresql://postgres@127.0.0.1:" + std::to_string(port) + "/postgres",
                          1, milliseconds(200)));
  for (int i = 0; i < 3; ++i) {  // a failed connect must not use up the pool's only slot
    auto lease = pool.Acquire();
    ASSERT_FALSE(lease.ok());
    EXPECT_EQ(lease.status().code(), Code::kUnavailable);
    EXPECT_EQ(lease.status().reason(), "DATABASE_UNAVAILABLE") << "attempt " << i;
  }
  Status st = SelectOne(pool);
  EXPECT_EQ(st.code(), Code::kUnavailable);
  EXPECT_EQ(st.reason(), "DATABASE_UNAVAILABLE");
  EXPECT_FALSE(pool.Probe());
}

class PgTransactTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Sql("CREATE TABLE IF NOT EXISTS transact_items (id integer PRIMARY KEY,"
        " n integer NOT NULL CHECK (n >= 0))");
  }
  void SetUp() override { Sql("TRUNCATE transact_items CASCADE"); }

  static Status Insert(PgPool& pool, int id, int n) {
    return pool.Transact([&](pqxx::work& tx) -> Status {
      tx.exec_params("INSERT INTO transact_items (id, n) VALUES ($1, $2)", id, n);
      return Status::Ok();
    });
  }

  // Size 1: every test also shows that a failed transaction gave its connection back.
  PgPool pool_{PoolOptions(DbUrl(), 1, milliseconds(2000))};
};

TEST_F(PgTransactTest, CommitsWhenTheFunctionReturnsOk) {
  ASSERT_TRUE(Insert(pool_, 1, 10).ok());
  ASSERT_TRUE(Insert(pool_, 2, 20).ok());
  EXPECT_EQ(Count("SELECT count(*) FROM transact_items"), 2);
  EXPECT_EQ(Count("SELECT sum(n) FROM transact_items"), 30);
}

TEST_F(PgTransactTest, RollsBackWhenTheFunctionReturnsAnError) {
  ASSERT_TRUE(Insert(pool_, 1, 10).ok());
  Status st = pool_.Transact([](pqxx::work& tx) -> Status {
    tx.exec("INSERT INTO transact_items (id, n) VALUES (2, 20)");
    tx.exec("UPDATE transact_items SET n = 99 WHERE id = 1");
    return Status::FailedPrecondition("TEST_REFUSED", "the function refuses");
  });
  EXPECT_EQ(st.code(), Code::kFailedPrecondition);
  EXPECT_EQ(st.reason(), "TEST_REFUSED");  // the function's own status, unchanged
  EXPECT_EQ(Count("SELECT count(*) FROM transact_items"), 1);
  EXPECT_EQ(Count("SELECT n FROM transact_items WHERE id = 1"), 10);
  // The connection is usable afterwards (no transaction left open on it).
  ASSERT_TRUE(Insert(pool_, 3, 30).ok());
  EXPECT_EQ(Count("SELECT count(*) FROM transact_items"), 2);
}

TEST_F(PgTransactTest, UniqueViolationIsAlreadyExists) {
  ASSERT_TRUE(Insert(pool_, 1, 10).ok());
  Status st = Insert(pool_, 1, 11);
  EXPECT_EQ(st.code(), Code::kAlreadyExists) << st.ToString();
  EXPECT_EQ(Count("SELECT n FROM transact_items WHERE id = 1"), 10);
  EXPECT_TRUE(Insert(pool_, 2, 20).ok());
}

TEST_F(PgTransactTest, CheckViolationIsFailedPrecondition) {
  Status st = Insert(pool_, 1, -1);
  EXPECT_EQ(st.code(), Code::kFailedPrecondition) << st.ToString();
  EXPECT_EQ(st.reason(), "CONSTRAINT_VIOLATED");
  EXPECT_EQ(Count("SELECT count(*) FROM transact_items"), 0);
  EXPECT_TRUE(Insert(pool_, 1, 1).ok());
}

TEST_F(PgTransactTest, EarlierStatementsRollBackWhenALaterOneFails) {
  Status st = pool_.Transact([](pqxx::work& tx) -> Status {
    tx.exec("INSERT INTO transact_items (id, n) VALUES (1, 1)");
    tx.exec("INSERT INTO transact_items (id, n) VALUES (2, -2)");  // CHECK fails
    return Status::Ok();
  });
  EXPECT_EQ(st.code(), Code::kFailedPrecondition) << st.ToString();
  EXPECT_EQ(Count("SELECT count(*) FROM transact_items"), 0);
}

TEST_F(PgTransactTest, StatementTimeoutIsDeadlineExceeded) {
  PgPool slow(PoolOptions(DbUrl(), 1, milliseconds(2000), milliseconds(100)));
  Status st = slow.Transact([](pqxx::work& tx) -> Status {
    tx.exec("SELECT pg_sleep(2)");
    return Status::Ok();
  });
  EXPECT_EQ(st.code(), Code::kDeadlineExceeded) << st.ToString();
  // The cancelled statement does not poison the (only) connection.
  EXPECT_TRUE(SelectOne(slow).ok());
}

TEST_F(PgTransactTest, ForeignKeyViolationIsFailedPrecondition) {
  Sql("CREATE TABLE IF NOT EXISTS transact_children (id integer PRIMARY KEY,"
      " item_id integer NOT NULL REFERENCES transact_items (id))");
  Status st = pool_.Transact([](pqxx::work& tx) -> Status {
    tx.exec("INSERT INTO transact_children (id, item_id) VALUES (1, 12345)");
    return Status::Ok();
  });
  EXPECT_EQ(st.code(), Code::kFailedPrecondition) << st.ToString();
  EXPECT_EQ(st.reason(), "REFERENCED_RESOURCE_MISSING");
}

TEST(PgArrayTest, RoundTripsAwkwardStringsThroughATextArrayColumn) {
  Sql("CREATE TABLE IF NOT EXISTS array_items (id integer PRIMARY KEY, items text[] NOT NULL)");
  Sql("TRUNCATE array_items");
  const std::vector<std::string> items = {
      "plain",
      "with \"double\" quotes",
      "back\\slash and \\\\ two",
      "a,b,c",
      "{braces}",
      "}{",
      "",
      "NULL",
      " leading and trailing spaces ",
      "\"",
      "\\",
      "semi;colon 'single' quotes",
      "caf\xc3\xa9 \xe2\x82\xac",
      "line\nbreak\ttab",
  };
  PgPool pool(PoolOptions(DbUrl(), 1, milliseconds(2000)));
  Status st = pool.Transact([&](pqxx::work& tx) -> Status {
    tx.exec_params("INSERT INTO array_items (id, items) VALUES (1, $1::text[])", ToPgArray(items));
    tx.exec_params("INSERT INTO array_items (id, items) VALUES (2, $1::text[])", ToPgArray({}));
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();

  // The server stored each element as written (not merely a literal that reads back the same).
  EXPECT_EQ(Count("SELECT cardinality(items) FROM array_items WHERE id = 1"),
            static_cast<int64_t>(items.size()));
  for (size_t i = 0; i < items.size(); ++i) {
    pqxx::connection conn(DbUrl());
    pqxx::nontransaction tx(conn);
    auto r =
        tx.exec_params("SELECT items[$1] FROM array_items WHERE id = 1", static_cast<int>(i + 1));
    ASSERT_FALSE(r[0][0].is_null()) << "element " << i;
    EXPECT_EQ(r[0][0].as<std::string>(), items[i]) << "element " << i;
  }

  std::vector<std::string> back, empty = {"not cleared"}, from_null = {"not cleared"};
  st = pool.Transact([&](pqxx::work& tx) -> Status {
    back = FromPgArray(tx.exec("SELECT items FROM array_items WHERE id = 1")[0][0]);
    empty = FromPgArray(tx.exec("SELECT items FROM array_items WHERE id = 2")[0][0]);
    from_null = FromPgArray(tx.exec("SELECT NULL::text[]")[0][0]);
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(back, items);
  EXPECT_TRUE(empty.empty());
  EXPECT_TRUE(from_null.empty());
}

// bytea[] parameters (Register's payloads): every byte value, quotes, backslashes, an empty item.
TEST(PgArrayTest, RoundTripsBinaryItemsThroughAByteaArray) {
  std::string every;
  for (int b = 0; b < 256; ++b) every += static_cast<char>(b);
  const std::vector<std::string> items = {every, "", "\"\\x00\\", std::string(1, '\0'),
                                          "\xd9\x81\xd8\xa7\xd8\xb7\xd9\x85\xd8\xa9"};
  PgPool pool(PoolOptions(DbUrl(), 1, milliseconds(2000)));
  std::vector<std::string> back;
  Status st = pool.Read([&](pqxx::transaction_base& tx) -> Status {
    auto rows = tx.exec_params(
        "SELECT u.b FROM unnest($1::bytea[]) WITH ORDINALITY AS u(b, n) ORDER BY u.n",
        ToPgByteaArray(items));
    for (const auto& r : rows) back.push_back(pqxx::binarystring(r[0]).str());
    EXPECT_EQ(tx.exec_params("SELECT cardinality($1::bytea[])", ToPgByteaArray({}))[0][0].as<int>(),
              0);
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(back, items);
}

// AfterCommit: what a transaction counts happens only if it commits, once, even when an attempt
// was retried after a serialization failure.
TEST(PgPoolTest, AfterCommitRunsOnlyOnCommitAndOncePerTransaction) {
  PgPool pool(PoolOptions(DbUrl(), 2, milliseconds(2000)));
  int committed = 0;
  ASSERT_TRUE(pool.Transact([&](pqxx::work& tx) -> Status {
                    tx.exec("SELECT 1");
                    AfterCommit([&] { ++committed; });
                    EXPECT_EQ(committed, 0);  // not before the commit
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(committed, 1);

  int rolled_back = 0;
  Status refused = pool.Transact([&](pqxx::work&) -> Status {
    AfterCommit([&] { ++rolled_back; });
    return Status::FailedPrecondition("NO", "changed my mind");
  });
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(rolled_back, 0);

  // The first attempt fails as a serialization failure would (ABORTED, retried): its hook is
  // dropped, the second attempt's runs.
  int attempts = 0, counted = 0;
  ASSERT_TRUE(pool.Transact([&](pqxx::work& tx) -> Status {
                    ++attempts;
                    AfterCommit([&] { ++counted; });
                    if (attempts == 1) {
                      tx.exec("SELECT 1");
                      return Status(Code::kAborted, "RETRY", "as if serialization failed");
                    }
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(counted, 1);

  // Outside a transaction it runs at once.
  int now = 0;
  AfterCommit([&] { ++now; });
  EXPECT_EQ(now, 1);
}

}  // namespace
}  // namespace ecd
