#include "common/email.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

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

// Plain ASCII domains skip libidn2: for each of them CanonicalEmail must answer what libidn2's
// path answers, the same form or the same refusal. Real domains of invited ministries, edge cases
// of labels and hyphens, and 50,000 random strings over letters, digits, '-', '.' and a few
// others.
TEST(CanonicalEmail, PlainAsciiDomainsAnswerAsThroughIdna) {
  auto same = [](const std::string& email) {
    const auto fast = CanonicalEmail(email, "participant.email");
    const auto idna = internal::CanonicalEmailThroughIdna(email, "participant.email");
    EXPECT_EQ(fast.ok(), idna.ok()) << email;
    if (fast.ok() && idna.ok()) {
      EXPECT_EQ(*fast, *idna) << email;
    } else if (!fast.ok() && !idna.ok()) {
      EXPECT_EQ(fast.status().message(), idna.status().message()) << email;
    }
  };
  for (const std::string& domain : std::vector<std::string>{"justice.gouv.sn",
                                                            "MPFN.GOB.PE",
                                                            "mofa.gov.vn",
                                                            "mha.gov.in",
                                                            "interior.gob.mx",
                                                            "justice.gov.ng",
                                                            "moj.go.th",
                                                            "mjustica.gov.br",
                                                            "fiscalia.gob.ec",
                                                            "a.b",
                                                            "a-b.c",
                                                            "-ab.cd",
                                                            "ab-.cd",
                                                            "ab--cd.ef",
                                                            "xn--ab.cd",
                                                            "XN--MGBEXC3I.xn--wgbh1c",
                                                            "xn--ministre-60a.example.ci",
                                                            "a..b",
                                                            ".ab.cd",
                                                            "ab.cd.",
                                                            "ab",
                                                            "1.2.3.4",
                                                            "a_b.cd",
                                                            "a b.cd",
                                                            "ab.c-",
                                                            "r4--x.example",
                                                            "--.example",
                                                            std::string(63, 'a') + ".sn",
                                                            std::string(64, 'a') + ".sn"}) {
    same("Awa.Diop@" + domain);
  }
  uint64_t state = 0x9e3779b97f4a7c15ULL;
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  const std::string alphabet = "abcXYZ019-.-.xn_";
  for (int i = 0; i < 50000; ++i) {
    std::string domain;
    const int length = 1 + static_cast<int>(next() % 14);
    for (int j = 0; j < length; ++j) domain += alphabet[next() % alphabet.size()];
    same("k.mensah@" + domain);
    if (HasFailure()) break;  // one input is enough to see
  }
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
