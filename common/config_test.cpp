#include "common/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

namespace ecd {
namespace {

using ::testing::HasSubstr;

Env EnvOf(std::map<std::string, std::string> vars) {
  return Env([vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  });
}

TEST(Config, DefaultsWhenUnset) {
  Env env = EnvOf({});
  auto c = CommonConfig::Load(env, "127.0.0.1:50061");
  EXPECT_NO_THROW(env.Check());
  EXPECT_EQ(c.listen_address, "127.0.0.1:50061");
  EXPECT_EQ(c.pg_pool_size, 8);
  EXPECT_EQ(c.workers, 8);
  EXPECT_EQ(c.log_format, "text");
  EXPECT_EQ(c.shutdown_deadline.count(), 10000);
  EXPECT_FALSE(c.tls_cert_file.has_value());
}

TEST(Config, ReadsValues) {
  Env env = EnvOf({{"ECD_LISTEN_ADDRESS", "0.0.0.0:0"},
                   {"ECD_PG_POOL_SIZE", "3"},
                   {"ECD_LOG_FORMAT", "json"},
                   {"ECD_SHUTDOWN_DEADLINE_MS", "2500"}});
  auto c = CommonConfig::Load(env, "127.0.0.1:50061");
  EXPECT_NO_THROW(env.Check());
  EXPECT_EQ(c.listen_address, "0.0.0.0:0");
  EXPECT_EQ(c.pg_pool_size, 3);
  EXPECT_EQ(c.workers, 3) << "workers default to the pool size";
  EXPECT_EQ(c.log_format, "json");
  EXPECT_EQ(c.shutdown_deadline.count(), 2500);
}

TEST(Config, BadValuesNameTheVariable) {
  Env env = EnvOf({{"ECD_PG_POOL_SIZE", "many"},
                   {"ECD_WORKERS", "0"},
                   {"ECD_LOG_FORMAT", "xml"},
                   {"ECD_LISTEN_ADDRESS", "localhost"},
                   {"ECD_TLS_CERT_FILE", "/nonexistent/cert.pem"}});
  CommonConfig::Load(env, "127.0.0.1:50061");
  try {
    env.Check();
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    std::string msg = e.what();
    EXPECT_THAT(msg, HasSubstr("ECD_PG_POOL_SIZE: must be an integer"));
    EXPECT_THAT(msg, HasSubstr("ECD_WORKERS: must be between 1 and 1024"));
    EXPECT_THAT(msg, HasSubstr("ECD_LOG_FORMAT: must be one of text, json"));
    EXPECT_THAT(msg, HasSubstr("ECD_LISTEN_ADDRESS: must be host:port"));
    EXPECT_THAT(msg, HasSubstr("ECD_TLS_CERT_FILE"));
  }
}

TEST(Config, IntegerRules) {
  Env env = EnvOf({{"A", "12x"}, {"B", "99999999999999999999"}, {"C", "-5"}, {"D", "7"}});
  EXPECT_EQ(env.Int("A", 1, 0, 100), 1);
  EXPECT_EQ(env.Int("B", 2, 0, 100), 2);
  EXPECT_EQ(env.Int("C", 3, 0, 100), 3);
  EXPECT_EQ(env.Int("D", 4, 0, 100), 7);
  EXPECT_EQ(env.errors().size(), 3u);
}

TEST(Config, PortRange) {
  Env env = EnvOf({{"A", "127.0.0.1:65536"}, {"B", "[::1]:8080"}});
  env.Address("A", "x:1");
  EXPECT_EQ(env.Address("B", "x:1"), "[::1]:8080");
  ASSERT_EQ(env.errors().size(), 1u);
  EXPECT_THAT(env.errors()[0], HasSubstr("A: port must be 0..65535"));
}

TEST(Config, BoolAndShortSecret) {
  Env env = EnvOf({{"ECD_PAGE_TOKEN_SECRET", "short"}, {"X", "maybe"}});
  CommonConfig::Load(env, "127.0.0.1:1");
  EXPECT_TRUE(env.Bool("Y", true));
  env.Bool("X", false);
  ASSERT_EQ(env.errors().size(), 2u);
  EXPECT_THAT(env.errors()[0], HasSubstr("ECD_PAGE_TOKEN_SECRET"));
  EXPECT_THAT(env.errors()[1], HasSubstr("X: must be true or false"));
}

}  // namespace
}  // namespace ecd
