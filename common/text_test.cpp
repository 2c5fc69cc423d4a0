#include "common/text.hpp"

#include <gtest/gtest.h>

namespace ecd {
namespace {

TEST(IsValidUtf8, AcceptsEveryScriptRejectsMalformedBytes) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("Zoë Ñúñez-Çelik"));
  EXPECT_TRUE(IsValidUtf8("محمد بن سلمان"));
  EXPECT_TRUE(IsValidUtf8("李小龙"));
  EXPECT_TRUE(IsValidUtf8("\xF0\x9F\x98\x80"));   // U+1F600
  EXPECT_FALSE(IsValidUtf8("\xC3"));              // cut short
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong "/"
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate U+D800
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("caf\xE9"));           // Latin-1 é
  EXPECT_FALSE(
      IsValidUtf8("\xFF\xFE"
                  "a\x00"
                  "b\x00"));  // UTF-16
}

TEST(Escaped, ControlsAndLineBreaksNeverReachTheLogRaw) {
  EXPECT_EQ(Escaped("plain"), "plain");
  EXPECT_EQ(Escaped("a\nb\r\tc"), "a\\nb\\r\\tc");
  EXPECT_EQ(Escaped("\x1b[31mred"), "\\x1b[31mred");
  EXPECT_EQ(Escaped(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(Escaped("x\xC2\x85y"), "x\\u0085y");      // NEL
  EXPECT_EQ(Escaped("x\xE2\x80\xA8y"), "x\\u2028y");  // LINE SEPARATOR
  EXPECT_EQ(Escaped("\xE2\x80\xAE"
                    "evil"),
            "\\u202eevil");  // RIGHT-TO-LEFT OVERRIDE
  EXPECT_EQ(Escaped("caf\xE9"), "caf\\xe9");
  EXPECT_EQ(Escaped("back\\slash"), "back\\\\slash");
}

TEST(Escaped, CutsOnCharacterBoundaries) {
  EXPECT_EQ(Escaped("李小龙李小龙", 3), "李小龙\u2026");
  EXPECT_EQ(Escaped("abc", 3), "abc");
  EXPECT_EQ(Escaped("abcd", 3), "abc\u2026");
}

}  // namespace
}  // namespace ecd
