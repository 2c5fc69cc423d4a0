#include "common/resource_name.hpp"

#include <gtest/gtest.h>

#include <utility>

namespace ecd {
namespace {

TEST(ResourceName, ParsesOnlyItsCollectionAndIdOfTakesTheLastSegment) {
  auto id = ParseResourceName("events/0b5e7a1c-0000-4000-8000-000000000001", "events", "event");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "0b5e7a1c-0000-4000-8000-000000000001");
  auto wrong = ParseResourceName("series/0b5e7a1c-0000-4000-8000-000000000001", "events", "event");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(IdOf("events/abc"), "abc");
  EXPECT_EQ(IdOf("events/e1/materials/m2"), "m2");
  EXPECT_EQ(IdOf("abc"), "abc");
  EXPECT_EQ(IdOf(""), "");
}

StatusOr<int> Half(int n) {
  if (n % 2 != 0) return Status::InvalidArgument("n", "is odd");
  return n / 2;
}

Status Quarter(int n, int* out) {
  ECD_ASSIGN_OR_RETURN(const int half, Half(n));
  ECD_ASSIGN_OR_RETURN(*out, Half(half));
  return Status::Ok();
}

TEST(Status, AssignOrReturnAssignsOrReturnsTheError) {
  int q = 0;
  EXPECT_TRUE(Quarter(8, &q).ok());
  EXPECT_EQ(q, 2);
  Status odd = Quarter(6, &q);  // 6 -> 3, odd
  EXPECT_EQ(odd.code(), Code::kInvalidArgument);
  EXPECT_EQ(q, 2);
  EXPECT_EQ(Overloaded().code(), Code::kResourceExhausted);
  EXPECT_EQ(Overloaded().reason(), "OVERLOADED");
}

}  // namespace
}  // namespace ecd
