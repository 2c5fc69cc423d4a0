#include "common/crypto.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

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

TEST(Crypto, HmacSha256Rfc4231) {
  // RFC 4231, test case 2.
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 1 (a 20-byte key), 6 (a 131-byte key, hashed first) and 7 (a 131-byte key and a
  // 152-byte message).
  EXPECT_EQ(HexEncode(HmacSha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(HexEncode(HmacSha256(std::string(131, '\xaa'),
                                 "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  EXPECT_EQ(HexEncode(HmacSha256(
                std::string(131, '\xaa'),
                "This is a test using a larger than block-size key and a larger than block-size "
                "data. The key needs to be hashed before being used by the HMAC algorithm.")),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
  // An empty key and message (the value every HMAC-SHA256 library gives).
  EXPECT_EQ(HexEncode(HmacSha256("", "")),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
  // A 64-byte key (exactly one block: used as it is) against OpenSSL's own HMAC.
  const std::string block_key(64, 'k');
  unsigned char expected[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), block_key.data(), 64, reinterpret_cast<const unsigned char*>("Kwame"), 5,
       expected, &len);
  EXPECT_EQ(HmacSha256(block_key, "Kwame"), std::string(reinterpret_cast<char*>(expected), len));
}

TEST(Crypto, RandomBytesNeverRepeatAcrossRefillsThreadsAndSizes) {
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) {  // several refills of the per-thread pool
    const std::string b = RandomBytes(16);
    ASSERT_EQ(b.size(), 16u);
    EXPECT_TRUE(seen.insert(b).second);
  }
  std::vector<std::string> other(500);
  std::thread t([&] {
    for (auto& b : other) b = RandomBytes(16);
  });
  t.join();
  for (const auto& b : other) EXPECT_TRUE(seen.insert(b).second);
  const std::string big = RandomBytes(5000);  // straight from OpenSSL
  EXPECT_EQ(big.size(), 5000u);
  EXPECT_NE(big.substr(0, 16), big.substr(16, 16));
  EXPECT_EQ(RandomBytes(0), "");
}

TEST(Crypto, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
}

}  // namespace
}  // namespace ecd
