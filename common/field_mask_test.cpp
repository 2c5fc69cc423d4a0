#include "common/field_mask.hpp"

#include <gtest/gtest.h>

namespace ecd {
namespace {

TEST(FieldMask, ProtoAndJsonSpellingsMeanTheSameField) {
  EXPECT_EQ(ProtoPath("registrationCloseTime"), "registration_close_time");
  EXPECT_EQ(ProtoPath("registration_close_time"), "registration_close_time");
  EXPECT_EQ(ProtoPath("recording.state"), "recording.state");
  EXPECT_EQ(ProtoPath("participant.certificateName"), "participant.certificate_name");
  const std::vector<std::string> updatable = {"title", "registration_close_time", "recording.url"};
  auto ok = CheckMask({"registrationCloseTime", "title", "recording.url", "title"}, updatable);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, (std::vector<std::string>{"registration_close_time", "title", "recording.url"}));
  auto prefixed = CheckMask({"participant.givenName", "family_name"}, {"given_name", "family_name"},
                            "participant.");
  ASSERT_TRUE(prefixed.ok());
  EXPECT_EQ(*prefixed, (std::vector<std::string>{"given_name", "family_name"}));
}

TEST(FieldMask, UnknownPathsAreNamedWithTheOnesThatCanBeUpdated) {
  auto bad = CheckMask({"title", "status", "createTime"}, {"title", "description"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().field(), "update_mask");
  EXPECT_NE(bad.status().message().find("'status'"), std::string::npos);
  EXPECT_NE(bad.status().message().find("'createTime'"), std::string::npos);
  EXPECT_NE(bad.status().message().find("title, description"), std::string::npos);
  EXPECT_FALSE(CheckMask({}, {"title"}).ok());
}

}  // namespace
}  // namespace ecd
