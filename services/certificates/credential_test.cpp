#include "services/certificates/credential.hpp"

#include <gtest/gtest.h>

#include "services/certificates/payload.hpp"

namespace ecd::certificates {
namespace {

TEST(Jcs, SortsNamesByUtf16CodeUnitsAsRfc8785Does) {
  // RFC 8785, 3.2.3: U+1F600 (a surrogate pair, D83D DE00) sorts before U+FB33.
  Json object = Json::Object{{"\u20ac", "Euro Sign"},
                             {"\r", "Carriage Return"},
                             {"\ufb33", "Hebrew Letter Dalet With Dagesh"},
                             {"1", "One"},
                             {"\U0001F600", "Emoji: Grinning Face"},
                             {"\u0080", "Control"},
                             {"\u00f6", "Latin Small Letter O With Diaeresis"}};
  EXPECT_EQ(object.Canonical(),
            "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u0080\":\"Control\","
            "\"\u00f6\":\"Latin Small Letter O With Diaeresis\",\"\u20ac\":\"Euro Sign\","
            "\"\U0001F600\":\"Emoji: Grinning Face\",\"\ufb33\":\"Hebrew Letter Dalet With "
            "Dagesh\"}");
}

TEST(Jcs, EscapesAsJsonStringifyDoes) {
  EXPECT_EQ(Json("a\"b\\c\n\t\b\f\r\x0f/é\u2028").Canonical(),
            "\"a\\\"b\\\\c\\n\\t\\b\\f\\r\\u000f/é\u2028\"");
  EXPECT_EQ(Json(Json::Array{1, -2, true, false, "x"}).Canonical(), "[1,-2,true,false,\"x\"]");
  EXPECT_EQ(Json(Json::Object{}).Canonical(), "{}");
}

TEST(Multibase, Base58BitcoinAlphabet) {
  EXPECT_EQ(MultibaseBase58("Hello World!"), "z2NEpo7TZRRrLZSi2U");
  EXPECT_EQ(MultibaseBase58(std::string("\0\0\x01", 3)), "z112");
  EXPECT_EQ(MultibaseBase58(""), "z");
}

TEST(VerificationMethodTest, DidKeyByDefaultIssuerWhenConfigured) {
  const std::string raw(32, '\x07');
  auto m = MethodFor("", raw, "0123456789abcdef");
  EXPECT_EQ(m.public_key_multibase.substr(0, 4), "z6Mk") << "an Ed25519 Multikey";
  EXPECT_EQ(m.controller, "did:key:" + m.public_key_multibase);
  EXPECT_EQ(m.id, m.controller + "#" + m.public_key_multibase);
  EXPECT_NE(m.document.find("\"type\":\"Multikey\""), std::string::npos);
  auto web = MethodFor("did:web:certificates.example.org", raw, "0123456789abcdef");
  EXPECT_EQ(web.id, "did:web:certificates.example.org#0123456789abcdef");
  EXPECT_EQ(web.public_key_multibase, m.public_key_multibase);
}

TEST(IssueCredential, NamesNobodyAndIsStable) {
  auto keys = Keyring::FromPem(Keyring::GeneratePrivateKeyPem(), {});
  ASSERT_TRUE(keys.ok());
  CertifiedFacts f;
  f.serial = "ECD-2020-0709-AAAA-BBBB";
  f.verification_code = "CODE";
  f.name_commitment = NameCommitment("0123456789abcdef", "Awa Diop");
  f.event_title = "Webinaire Afrique";
  f.event_start = "2020-07-09T08:00:00Z";
  f.event_end = "2020-07-09T09:45:00Z";
  f.duration_minutes = 100;
  f.language = "fr";
  f.issuer = "Council of Europe, with EU Cyber Direct";
  f.issue_date = "2020-07-10";
  f.key_id = keys->signing_key_id();
  CredentialInput in{"5eed0000-0000-4000-8000-000000000001", f, 1594368000LL * 1000000, "", "fr"};
  const std::string vc = IssueCredential(in, *keys);
  EXPECT_EQ(vc, IssueCredential(in, *keys)) << "Ed25519 and JCS are deterministic";
  EXPECT_EQ(vc.find("Awa"), std::string::npos);
  EXPECT_NE(vc.find(f.name_commitment), std::string::npos);
  EXPECT_NE(vc.find("\"cryptosuite\":\"eddsa-jcs-2022\""), std::string::npos);
  EXPECT_NE(vc.find("\"validFrom\":\"2020-07-10T08:00:00Z\""), std::string::npos);
}

}  // namespace
}  // namespace ecd::certificates
