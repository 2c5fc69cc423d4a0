#include "common/migrations.hpp"

#include <spdlog/spdlog.h>

#include <thread>

#include "common/crypto.hpp"
#include "common/pg.hpp"

namespace ecd {

StatusOr<MigrationReport> RunMigrations(PgPool& pool, const std::string& schema,
                                        const std::vector<Migration>& migrations) {
  ECD_ASSIGN_OR_RETURN(auto lease, pool.Acquire());
  MigrationReport report;
  try {
    pqxx::connection& conn = *lease;
    const std::string lock_key = "ecd.migrations." + schema;
    {
      pqxx::nontransaction tx(conn);
      tx.exec_params("SELECT pg_advisory_lock(hashtext($1))", lock_key);
    }
    struct Unlock {
      pqxx::connection& c;
      std::string key;
      ~Unlock() {
        try {
          pqxx::nontransaction tx(c);
          tx.exec_params("SELECT pg_advisory_unlock(hashtext($1))", key);
        } catch (...) {
        }
      }
    } unlock{conn, lock_key};
    const std::string table = conn.quote_name(schema) + ".schema_migrations";
    {
      pqxx::work tx(conn);
      tx.exec("CREATE SCHEMA IF NOT EXISTS " + conn.quote_name(schema));
      tx.exec("CREATE TABLE IF NOT EXISTS " + table +
              " (version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
              " applied_at timestamptz NOT NULL DEFAULT now())");
      tx.commit();
    }
    for (const auto& m : migrations) {
      const std::string checksum = Sha256Hex(m.sql);
      pqxx::work tx(conn);
      auto rows =
          tx.exec_params("SELECT checksum FROM " + table + " WHERE version = $1", m.version);
      if (!rows.empty()) {
        if (rows[0][0].as<std::string>() != checksum) {
          return Status::FailedPrecondition(
              "MIGRATION_CHANGED",
              "migration " + m.name + " of schema " + schema + " was changed after it was applied");
        }
        ++report.already;
        continue;
      }
      tx.exec("SET LOCAL search_path TO " + conn.quote_name(schema));
      tx.exec(m.sql);
      tx.exec_params("INSERT INTO " + table + " (version, name, checksum) VALUES ($1, $2, $3)",
                     m.version, m.name, checksum);
      tx.commit();
      ++report.applied;
      spdlog::info("applied migration {}.{}", schema, m.name);
    }
  } catch (const pqxx::broken_connection& e) {
    lease.Discard();
    return MapPgException(e);
  } catch (const std::exception& e) {
    spdlog::error("migration of schema {} failed: {}", schema, e.what());
    return Status::Internal(std::string("migration failed: ") + e.what());
  }
  return report;
}

Status MigrateWhenReady(PgPool& pool, const std::string& schema,
                        const std::vector<Migration>& migrations, std::chrono::milliseconds wait) {
  auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    auto report = RunMigrations(pool, schema, migrations);
    if (report.ok()) {
      spdlog::info("schema {}: {} migrations applied, {} already there", schema, report->applied,
                   report->already);
      return Status::Ok();
    }
    if (report.status().code() != Code::kUnavailable ||
        std::chrono::steady_clock::now() >= deadline) {
      return report.status();
    }
    spdlog::warn("waiting for the database: {}", report.status().message());
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

}  // namespace ecd
