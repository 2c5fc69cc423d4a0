// ecd::RunMigrations against the real PostgreSQL: applied once, recorded, refused when changed,
// atomic per migration, safe when replicas start together; and the catalogue's own migrations.
#include "common/migrations.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "common/crypto.hpp"
#include "common/pg.hpp"
#include "common/status.hpp"
#include "tests/harness/harness.hpp"

namespace ecd::catalogue {
const std::vector<ecd::Migration>& Migrations();
}  // namespace ecd::catalogue

namespace ecd {
namespace {

using std::chrono::milliseconds;

// One database for this file; each test uses schemas of its own.
const std::string& DbUrl() {
  static const std::string url = test::NewDatabaseUrl("it");
  return url;
}

// A schema name of its own for each run, so that the tests can be repeated in one database.
std::string NewSchema(const std::string& prefix) { return prefix + "_" + NewUuid().substr(0, 8); }

PgPool::Options PoolOptions(const std::string& url) {
  PgPool::Options o;
  o.url = url;
  o.size = 2;
  o.acquire_timeout = milliseconds(5000);
  // Bounds a wait for the advisory lock too: a lock never released fails instead of hanging.
  o.statement_timeout = milliseconds(20000);
  return o;
}

int64_t Count(const std::string& url, const std::string& statement) {
  pqxx::connection conn(url);
  pqxx::nontransaction tx(conn);
  return tx.exec(statement)[0][0].as<int64_t>();
}

std::vector<std::string> Tables(const std::string& url, const std::string& schema) {
  pqxx::connection conn(url);
  pqxx::nontransaction tx(conn);
  std::vector<std::string> out;
  for (const auto& r : tx.exec_params("SELECT table_name::text FROM information_schema.tables"
                                      " WHERE table_schema = $1 ORDER BY table_name",
                                      schema)) {
    out.push_back(r[0].as<std::string>());
  }
  return out;
}

std::vector<Migration> TwoMigrations() {
  return {
      {1, "001_items.sql", "CREATE TABLE items (id integer PRIMARY KEY, label text NOT NULL);"},
      {2, "002_tags.sql",
       "CREATE TABLE tags (item_id integer NOT NULL REFERENCES items (id), tag text NOT NULL);\n"
       "INSERT INTO items VALUES (1, 'first');"},
  };
}

TEST(MigrationsTest, AppliesEachMigrationOnceInTheGivenSchema) {
  const std::string schema = NewSchema("mig_once");
  PgPool pool(PoolOptions(DbUrl()));

  auto first = RunMigrations(pool, schema, TwoMigrations());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->applied, 2);
  EXPECT_EQ(first->already, 0);

  auto second = RunMigrations(pool, schema, TwoMigrations());
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->applied, 0);
  EXPECT_EQ(second->already, 2);

  EXPECT_EQ(Tables(DbUrl(), schema),
            (std::vector<std::string>{"items", "schema_migrations", "tags"}));
  // Unqualified names in the SQL landed in the schema, not in public.
  EXPECT_TRUE(Tables(DbUrl(), "public").empty());
  EXPECT_EQ(Count(DbUrl(), "SELECT count(*) FROM " + schema + ".schema_migrations"), 2);
  EXPECT_EQ(Count(DbUrl(), "SELECT count(*) FROM " + schema +
                               ".schema_migrations WHERE (version, name) IN"
                               " ((1, '001_items.sql'), (2, '002_tags.sql')) AND checksum <> ''"),
            2);
  // Applied exactly once: the insert of the second migration did not run again.
  EXPECT_EQ(Count(DbUrl(), "SELECT count(*) FROM " + schema + ".items"), 1);

  // A new migration appended later is the only one applied.
  auto three = TwoMigrations();
  three.push_back({3, "003_more.sql", "INSERT INTO items VALUES (2, 'second');"});
  auto third = RunMigrations(pool, schema, three);
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_EQ(third->applied, 1);
  EXPECT_EQ(third->already, 2);
  EXPECT_EQ(Count(DbUrl(), "SELECT count(*) FROM " + schema + ".items"), 2);
  EXPECT_EQ(Count(DbUrl(), "SELECT count(*) FROM " + schema + ".schema_migrations"), 3);
}

TEST(MigrationsTest, SchemasAreIndependent) {
  PgPool pool(PoolOptions(DbUrl()));
  const std::string schema_a = NewSchema("mig_a"), schema_b = NewSchema("mig_b");
  auto a = RunMigrations(pool, schema_a, TwoMigrations());
  auto b = RunMigrations(pool, schema_b, TwoMigrations());
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(a->applied, 2);
  EXPECT_EQ(b->applied, 2);
  EXPECT_EQ(Count(DbUrl(), "SELECT count(*) FROM " + schema_b + ".schema_migrations"), 2);
}

TEST(MigrationsTest, ChangedMigrationIsRefused) {
  const std::string schema = NewSchema("mig_changed");
  PgPool pool(PoolOptions(DbUrl()));
  auto first = RunMigrations(pool, schema, TwoMigrations());
  ASSERT_TRUE(first.ok()) << first.status().ToString();

  auto changed = TwoMigrations();
  changed[0].sql = "CREATE TABLE items (id bigint PRIMARY KEY, label text NOT NULL);";
  changed.push_back({3, "003_more.sql", "CREATE TABLE more (id integer);"});
  auto result = RunMigrations(pool, schema, changed);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(result.status().reason(), "MIGRATION_CHANGED");
  // Nothing after the changed migration was applied.
  EXPECT_EQ(Count(DbUrl(), "SELECT count(*) FROM " + schema + ".schema_migrations"), 2);
  EXPECT_EQ(Count(DbUrl(),
                  "SELECT count(*) FROM information_schema.tables"
                  " WHERE table_schema = '" +
                      schema + "' AND table_name = 'more'"),
            0);

  // The advisory lock was released: another pool (another session) migrates at once.
  PgPool other(PoolOptions(DbUrl()));
  auto again = RunMigrations(other, schema, TwoMigrations());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->already, 2);
}

TEST(MigrationsTest, FailingMigrationLeavesNoTraceAndEarlierOnesStay) {
  const std::string schema = NewSchema("mig_failing");
  PgPool pool(PoolOptions(DbUrl()));
  std::vector<Migration> migrations = {
      {1, "001_items.sql", "CREATE TABLE items (id integer PRIMARY KEY);"},
      {2, "002_broken.sql",
       "CREATE TABLE half (id integer);\nINSERT INTO items VALUES (1);\nSELECT * FROM missing;"},
  };
  auto result = RunMigrations(pool, schema, migrations);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), Code::kInternal) << result.status().ToString();
  EXPECT_EQ(Count(DbUrl(), "SELECT count(*) FROM " + schema + ".schema_migrations"), 1);
  EXPECT_EQ(Tables(DbUrl(), schema), (std::vector<std::string>{"items", "schema_migrations"}));
  EXPECT_EQ(Count(DbUrl(), "SELECT count(*) FROM " + schema + ".items"), 0);

  migrations[1].sql = "CREATE TABLE half (id integer);\nINSERT INTO items VALUES (1);";
  // Another session: the failure released the advisory lock.
  PgPool other(PoolOptions(DbUrl()));
  auto fixed = RunMigrations(other, schema, migrations);
  ASSERT_TRUE(fixed.ok()) << fixed.status().ToString();
  EXPECT_EQ(fixed->applied, 1);
  EXPECT_EQ(fixed->already, 1);
  EXPECT_EQ(Count(DbUrl(), "SELECT count(*) FROM " + schema + ".items"), 1);
}

TEST(MigrationsTest, ConcurrentRunnersApplyEachMigrationExactlyOnce) {
  constexpr int kThreads = 4;
  for (int round = 0; round < 3; ++round) {
    const std::string schema = NewSchema("mig_race_" + std::to_string(round));
    const std::vector<Migration> migrations = {
        {1, "001_log.sql",
         "CREATE TABLE applied_log (migration integer NOT NULL);\n"
         "INSERT INTO applied_log VALUES (1);"},
        {2, "002_log.sql", "INSERT INTO applied_log VALUES (2);"},
    };
    std::latch start(kThreads);
    std::vector<StatusOr<MigrationReport>> results(kThreads, Status::Internal("did not run"));
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        PgPool pool(PoolOptions(DbUrl()));  // a pool (so a session) of its own, like a replica
        start.arrive_and_wait();
        results[t] = RunMigrations(pool, schema, migrations);
      });
    }
    for (auto& th : threads) th.join();

    int applied = 0;
    for (int t = 0; t < kThreads; ++t) {
      ASSERT_TRUE(results[t].ok())
          << "round " << round << " thread " << t << ": " << results[t].status().ToString();
      EXPECT_EQ(results[t]->applied + results[t]->already, 2);
      applied += results[t]->applied;
    }
    EXPECT_EQ(applied, 2) << "round " << round;
    EXPECT_EQ(Count(DbUrl(), "SELECT count(*) FROM " + schema + ".applied_log WHERE migration = 1"),
              1);
    EXPECT_EQ(Count(DbUrl(), "SELECT count(*) FROM " + schema + ".applied_log WHERE migration = 2"),
              1);
    EXPECT_EQ(Count(DbUrl(), "SELECT count(*) FROM " + schema + ".schema_migrations"), 2);
  }
}

TEST(MigrationsTest, CatalogueMigrationsApplyOnceOnAFreshDatabase) {
  const std::string url = test::NewDatabaseUrl("it");
  const auto& migrations = catalogue::Migrations();
  ASSERT_FALSE(migrations.empty());
  PgPool pool(PoolOptions(url));

  auto first = RunMigrations(pool, "catalogue", migrations);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->applied, static_cast<int>(migrations.size()));
  EXPECT_EQ(first->already, 0);

  auto second = RunMigrations(pool, "catalogue", migrations);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->applied, 0);
  EXPECT_EQ(second->already, static_cast<int>(migrations.size()));

  EXPECT_EQ(Tables(url, "catalogue"),
            (std::vector<std::string>{"agenda_segments", "events", "materials", "schema_migrations",
                                      "series"}));
  EXPECT_EQ(Count(url, "SELECT count(*) FROM catalogue.schema_migrations"),
            static_cast<int64_t>(migrations.size()));
  EXPECT_TRUE(Tables(url, "public").empty());
}

}  // namespace
}  // namespace ecd
