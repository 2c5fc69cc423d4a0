#include "common/metrics.hpp"

#include <gtest/gtest.h>

namespace ecd {
namespace {

TEST(Metrics, CountersGaugesAndHistogramsShowInTheText) {
  Counter("ecd_test_things_total", "Things.", {{"kind", "a"}}).Inc();
  Counter("ecd_test_things_total", "Things.", {{"kind", "a"}}).Inc(2);
  Counter("ecd_test_things_total", "Things.", {{"kind", "b"}}).Inc();
  GaugeHandle g = Gauge("ecd_test_level", "A level.");
  g.Set(7);
  g.Dec(2);
  Histogram("ecd_test_seconds", "Durations.", {}, {0.1, 1}).Observe(0.5);
  const std::string text = MetricsText();
  EXPECT_NE(text.find("ecd_test_things_total{kind=\"a\"} 3"), std::string::npos) << text;
  EXPECT_NE(text.find("ecd_test_things_total{kind=\"b\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("ecd_test_level 5"), std::string::npos) << text;
  EXPECT_NE(text.find("ecd_test_seconds_bucket{le=\"0.1\"} 0"), std::string::npos) << text;
  EXPECT_NE(text.find("ecd_test_seconds_bucket{le=\"1\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("# HELP ecd_test_things_total Things."), std::string::npos) << text;
}

TEST(Metrics, ServesOnAFreePortOrSaysWhyNot) {
  auto off = ServeMetrics("");
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(*off, 0);
  auto bad = ServeMetrics("256.1.1.1:99999");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kFailedPrecondition);
  auto port = ServeMetrics("127.0.0.1:0");
  ASSERT_TRUE(port.ok()) << port.status().message();
  EXPECT_GT(*port, 0);
}

}  // namespace
}  // namespace ecd
