#include "common/trace.hpp"

#include <gtest/gtest.h>

namespace ecd {
namespace {

TEST(Traceparent, ParsesTheW3cHeaderAndRefusesMalformedOnes) {
  auto t = ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(t->span_id, "00f067aa0ba902b7");
  EXPECT_TRUE(t->sampled);
  for (const char* bad : {"", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
                          "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                          "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                          "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                          "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
                          "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"}) {
    EXPECT_FALSE(ParseTraceparent(bad).has_value()) << bad;
  }
  // A later version may carry more after the flags.
  EXPECT_TRUE(ParseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future")
                  .has_value());
}

TEST(Traceparent, ChildSpansKeepTheTraceAndScopesNest) {
  auto parent = ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  TraceContext child = ChildSpan(parent);
  EXPECT_EQ(child.trace_id, parent->trace_id);
  EXPECT_NE(child.span_id, parent->span_id);
  EXPECT_EQ(Traceparent(child), "00-" + child.trace_id + "-" + child.span_id + "-01");
  TraceContext fresh = ChildSpan(std::nullopt);
  EXPECT_EQ(fresh.trace_id.size(), 32u);
  EXPECT_EQ(CurrentTrace(), nullptr);
  {
    ScopedTrace outer(child);
    ASSERT_NE(CurrentTrace(), nullptr);
    EXPECT_EQ(CurrentTrace()->span_id, child.span_id);
    {
      ScopedTrace inner(fresh);
      EXPECT_EQ(CurrentTrace()->trace_id, fresh.trace_id);
    }
    EXPECT_EQ(CurrentTrace()->trace_id, child.trace_id);
  }
  EXPECT_EQ(CurrentTrace(), nullptr);
}

}  // namespace
}  // namespace ecd
