#pragma once
// The series and the five webinars of the source document (shared/seeds), exactly as scheduled.
// Fixed ids make seeding idempotent: running it again changes nothing.
#include <vector>

#include "common/status.hpp"
#include "ecd/catalogue/v1/catalogue.pb.h"
#include "services/catalogue/repository.hpp"

namespace ecd::catalogue {

struct SeedData {
  std::string series_id;
  v1::Series series;
  std::vector<std::pair<std::string, v1::Event>> events;  // id, event
};

SeedData BuildSeedData();

struct SeedReport {
  int created = 0;
  int unchanged = 0;
};
StatusOr<SeedReport> Seed(Repository& repo);

}  // namespace ecd::catalogue
