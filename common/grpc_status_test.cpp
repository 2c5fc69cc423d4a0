#include "common/grpc_status.hpp"

#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "common/pg.hpp"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace ecd {
namespace {

google::rpc::Status Details(const grpc::Status& s) {
  google::rpc::Status rich;
  EXPECT_TRUE(rich.ParseFromString(s.error_details()));
  return rich;
}

TEST(GrpcStatus, ErrorInfoCarriesReasonAndDomain) {
  Status s = Status::FailedPrecondition("EVENT_CANCELLED", "a cancelled event cannot change");
  grpc::Status g = ToGrpcStatus(s, "catalogue.ecd");
  EXPECT_EQ(g.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(g.error_message(), "a cancelled event cannot change");
  auto rich = Details(g);
  EXPECT_EQ(rich.code(), 9);
  ASSERT_EQ(rich.details_size(), 1);
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(rich.details(0).UnpackTo(&info));
  EXPECT_EQ(info.reason(), "EVENT_CANCELLED");
  EXPECT_EQ(info.domain(), "catalogue.ecd");
}

TEST(GrpcStatus, InvalidArgumentNamesTheField) {
  grpc::Status g = ToGrpcStatus(Status::InvalidArgument("event.title", "must not be empty"), "d");
  EXPECT_EQ(g.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  auto rich = Details(g);
  ASSERT_EQ(rich.details_size(), 2);
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(rich.details(0).UnpackTo(&info));
  EXPECT_EQ(info.metadata().at("field"), "event.title");
  google::rpc::BadRequest bad;
  ASSERT_TRUE(rich.details(1).UnpackTo(&bad));
  EXPECT_EQ(bad.field_violations(0).field(), "event.title");
}

TEST(GrpcStatus, OkAndUnknown) {
  EXPECT_TRUE(ToGrpcStatus(Status::Ok(), "d").ok());
  grpc::Status g = ToGrpcStatus(Status(Code::kUnknown, "", "?"), "d");
  EXPECT_EQ(g.error_code(), grpc::StatusCode::INTERNAL) << "never UNKNOWN";
}

TEST(PgErrors, MappedOnce) {
  auto code = [](const std::exception& e) { return MapPgException(e).code(); };
  EXPECT_EQ(code(pqxx::unique_violation("dup", "q", "23505")), Code::kAlreadyExists);
  EXPECT_EQ(code(pqxx::foreign_key_violation("fk", "q", "23503")), Code::kFailedPrecondition);
  EXPECT_EQ(code(pqxx::check_violation("chk", "q", "23514")), Code::kFailedPrecondition);
  EXPECT_EQ(code(pqxx::serialization_failure("ser")), Code::kAborted);
  EXPECT_EQ(code(pqxx::deadlock_detected("dl")), Code::kAborted);
  EXPECT_EQ(code(pqxx::sql_error("serialization", "q", "40001")), Code::kAborted);
  EXPECT_EQ(code(pqxx::statement_completion_unknown("?")), Code::kUnavailable);
  EXPECT_EQ(code(pqxx::sql_error("timeout", "q", "57014")), Code::kDeadlineExceeded);
  EXPECT_EQ(code(pqxx::broken_connection("gone")), Code::kUnavailable);
  EXPECT_EQ(code(pqxx::sql_error("admin shutdown", "q", "57P01")), Code::kUnavailable);
  EXPECT_EQ(code(pqxx::sql_error("syntax", "q", "42601")), Code::kInternal);
  EXPECT_EQ(code(std::runtime_error("other")), Code::kInternal);
}

}  // namespace
}  // namespace ecd
