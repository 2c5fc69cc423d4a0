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

TEST(Nfc, ComposedAndDecomposedGiveTheSameBytes) {
  EXPECT_EQ(Nfc("Zoe\xCC\x88"), "Zo\xC3\xAB");                    // e + COMBINING DIAERESIS -> ë
  EXPECT_EQ(Nfc("Nguye\xCC\x82\xCC\x83n"), "Nguy\xE1\xBB\x85n");  // ễ from e + ^ + ~
  EXPECT_EQ(Nfc("\xE1\x84\x80\xE1\x85\xA1"), "\xEA\xB0\x80");     // Hangul jamo -> 가
  EXPECT_EQ(Nfc("李小龙"), "李小龙");
  EXPECT_EQ(Nfc("محمد"), "محمد");
  EXPECT_EQ(Nfc(""), "");
  EXPECT_EQ(Nfc("caf\xE9"), "");  // not UTF-8
  EXPECT_EQ(Nfc(std::string("Zoe\xCC\x88\0HIDDEN", 12)), std::string("Zo\xC3\xAB\0HIDDEN", 11))
      << "nothing cut at a NUL";
}

TEST(CheckText, OneRuleForEveryField) {
  const TextRule name{TextKind::kName, 100, true};
  const TextRule line{TextKind::kLine, 20, false};
  const TextRule text{TextKind::kMultiLine, 100, false};
  auto field = [](const Status& st) { return st.ok() ? std::string("ok") : st.field(); };
  for (const char* good : {"Awa", "李小龙", "محمد بن سلمان", "NAGY Éva", "O'Brien-Ñúñez", "ẞ"}) {
    EXPECT_TRUE(CheckText(good, "participant.given_name", name).ok()) << good;
  }
  for (const std::string& bad :
       {std::string(""), std::string("   "),
        std::string("\xE2\x80\x8B\xE2\x80\x8B"),  // spaces, ZWSP
        std::string("\xE2\x80\xAE") + "evil",     // RLO
        std::string("\xE2\x81\xA6") + "x",        // LRI
        std::string("Visible\0HIDDEN", 14), std::string("a\nb"), std::string("123"),
        std::string("Zoe\xCC\x88"),  // NFD
        std::string("caf\xE9"), std::string(101, 'a')}) {
    EXPECT_EQ(field(CheckText(bad, "participant.given_name", name)), "participant.given_name")
        << bad;
  }
  EXPECT_TRUE(CheckText("", "participant.job_title", line).ok());
  EXPECT_EQ(field(CheckText("a\tb", "participant.job_title", line)), "participant.job_title");
  EXPECT_EQ(field(CheckText("\xC2\x85", "participant.job_title", line)), "participant.job_title");
  EXPECT_TRUE(CheckText("Line one\nLine two\tend", "description", text).ok());
  EXPECT_EQ(field(CheckText(std::string("a\0b", 3), "description", text)), "description");
  EXPECT_EQ(field(CheckText("\x1b[31m", "description", text)), "description");
}

TEST(Escaped, CutsOnCharacterBoundaries) {
  EXPECT_EQ(Escaped("李小龙李小龙", 3), "李小龙\u2026");
  EXPECT_EQ(Escaped("abc", 3), "abc");
  EXPECT_EQ(Escaped("abcd", 3), "abc\u2026");
}

TEST(PercentEncode, KeepsOnlyUnreservedCharacters) {
  EXPECT_EQ(PercentEncode("A-z_0.9~"), "A-z_0.9~");
  EXPECT_EQ(PercentEncode("a b/c?d=e&f"), "a%20b%2Fc%3Fd%3De%26f");
  EXPECT_EQ(PercentEncode("Fiche pays — Sénégal.pdf"),
            "Fiche%20pays%20%E2%80%94%20S%C3%A9n%C3%A9gal.pdf");
  EXPECT_EQ(PercentEncode("دليل"), "%D8%AF%D9%84%D9%8A%D9%84");
  EXPECT_EQ(PercentEncode(""), "");
}

}  // namespace
}  // namespace ecd
