#include "common/crypto.hpp"

#include <gtest/gtest.h>

namespace ecd {
namespace {

TEST(Crypto, KnownDigests) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha1Hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST(Crypto, Base64UrlRoundTrip) {
  const std::string samples[] = {"",     "f",     "fo",     "foo",
                                 "foob", "fooba", "foobar", std::string("\xff\x00\xfe", 3)};
  for (const std::string& s : samples) {
    std::string decoded;
    ASSERT_TRUE(Base64UrlDecode(Base64UrlEncode(s), &decoded));
    EXPECT_EQ(decoded, s);
  }
  EXPECT_EQ(Base64UrlEncode("foobar"), "Zm9vYmFy");
  std::string out;
  EXPECT_FALSE(Base64UrlDecode("ab+c", &out));
  EXPECT_FALSE(Base64UrlDecode("abcde", &out));
}

TEST(Crypto, Uuid) {
  std::string u = NewUuid();
  EXPECT_TRUE(IsUuid(u)) << u;
  EXPECT_EQ(u[14], '4');
  EXPECT_NE(NewUuid(), u);
  EXPECT_FALSE(IsUuid("5EED0000-0000-4000-8000-000000000001"));
  EXPECT_FALSE(IsUuid("5eed0000-0000-4000-8000-00000000000"));
  EXPECT_FALSE(IsUuid("5eed0000x0000-4000-8000-000000000001"));
}

TEST(Crypto, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
}

}  // namespace
}  // namespace ecd
