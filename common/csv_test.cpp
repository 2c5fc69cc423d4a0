#include "common/csv.hpp"

#include <gtest/gtest.h>

namespace ecd {
namespace {

TEST(CsvRow, QuotesWhatNeedsItAndNeutralisesFormulas) {
  EXPECT_EQ(CsvRow({"a", "b"}), "a,b\r\n");
  EXPECT_EQ(CsvRow({"Diop, Awa", "say \"hi\"", "two\nlines"}),
            "\"Diop, Awa\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n");
  EXPECT_EQ(CsvRow({"=HYPERLINK(\"http://x\")", "+33 1 23", "-1", "@SUM(A1)", "Zoë"}),
            "\"'=HYPERLINK(\"\"http://x\"\")\",'+33 1 23,'-1,'@SUM(A1),Zoë\r\n");
  EXPECT_EQ(CsvRow({"", ""}), ",\r\n");
}

}  // namespace
}  // namespace ecd
