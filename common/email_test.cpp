#include "common/email.hpp"

#include <gtest/gtest.h>

namespace ecd {
namespace {

std::string Canon(const std::string& email) {
  auto c = CanonicalEmail(email, "participant.email");
  return c.ok() ? *c : "refused: " + c.status().message();
}

TEST(CanonicalEmail, TrimmedLowercasedAndIdnDomainsInAsciiForm) {
  EXPECT_EQ(Canon("  Awa.Diop@Justice.GOUV.sn \t"), "awa.diop@justice.gouv.sn");
  // Internationalised domains of invited countries become their A-labels (the expected forms
  // from Python: 'ministère'.encode('idna') and so on).
  EXPECT_EQ(Canon("info@ministère.example.ci"), "info@xn--ministre-60a.example.ci");
  EXPECT_EQ(Canon("contact@وزارة.مصر"), "contact@xn--mgbexc3i.xn--wgbh1c");
  EXPECT_EQ(Canon("a@例え.jp"), "a@xn--r8jz45g.jp");
  EXPECT_EQ(Canon("a@MINISTÈRE.example.ci"), Canon("a@ministère.example.ci")) << "case folded";
  EXPECT_EQ(Canon("o'brien+webinar@justice.ie"), "o'brien+webinar@justice.ie");
}

TEST(CanonicalEmail, RefusedWithAClearReason) {
  for (const char* bad :
       {"", "   ", "no-at-sign", "@justice.sn", "awa@", "awa@localhost", "awa diop@justice.sn",
        "awa..diop@justice.sn", ".awa@justice.sn", "awa@justice..sn", "awa@-justice.sn",
        "awa@justice_sn.org", "awa<script>@justice.sn", "awa@justice.sn\nBcc: x@y.z"}) {
    EXPECT_EQ(Canon(bad).rfind("refused: ", 0), 0u) << bad;
  }
  EXPECT_NE(Canon("amélie@justice.fr").find("must be ASCII"), std::string::npos)
      << "a non-ASCII local part is refused, saying why";
  EXPECT_EQ(Canon(std::string(65, 'a') + "@justice.sn").rfind("refused", 0), 0u);
}

TEST(NormaliseEmail, TrimsAndLowercasesAsciiOnly) {
  EXPECT_EQ(NormaliseEmail("  Ada.Lovelace@Example.ORG\t\r\n"), "ada.lovelace@example.org");
  EXPECT_EQ(NormaliseEmail("already@lower.case"), "already@lower.case");
  EXPECT_EQ(NormaliseEmail(""), "");
  EXPECT_EQ(NormaliseEmail(" \t\n\v\f\r "), "");
  EXPECT_EQ(NormaliseEmail("a b@C.d"), "a b@c.d");  // inner spaces are not touched
  // Non-ASCII bytes (here UTF-8 "É") are left as they are.
  EXPECT_EQ(NormaliseEmail("\xC3\x89LODIE@X.SN"), "\xC3\x89lodie@x.sn");
}

}  // namespace
}  // namespace ecd
