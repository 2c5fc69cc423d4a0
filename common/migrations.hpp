#pragma once
// Numbered SQL files per service, embedded in the binary (cmake/embed_migrations.cmake), applied
// in order at start-up under an advisory lock (so that replicas starting together apply each
// once), each in its own transaction, recorded in <schema>.schema_migrations with a checksum.
#include <chrono>
#include <string>
#include <vector>

#include "common/status.hpp"

namespace ecd {

struct Migration {
  int version;
  std::string name;
  std::string sql;
};

class PgPool;

struct MigrationReport {
  int applied = 0;
  int already = 0;
};

// Creates `schema` if needed and applies what is missing. FAILED_PRECONDITION when an applied
// migration's file changed since (checksum mismatch).
StatusOr<MigrationReport> RunMigrations(PgPool& pool, const std::string& schema,
                                        const std::vector<Migration>& migrations);

// What every service does at start-up: waits up to `wait` for the database (it may start after
// us in compose or Kubernetes), then migrates, logging what was applied.
Status MigrateWhenReady(PgPool& pool, const std::string& schema,
                        const std::vector<Migration>& migrations, std::chrono::milliseconds wait);

}  // namespace ecd
