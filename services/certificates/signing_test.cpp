#include "services/certificates/signing.hpp"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <string>
#include <vector>

#include "common/crypto.hpp"
#include "services/certificates/payload.hpp"
#include "services/certificates/sample_facts_test.hpp"

namespace ecd::certificates {
namespace {

// A private key of another type, in PEM, made with OpenSSL's own generator.
std::string OtherKeyPem(const char* type, bool public_only = false) {
  EVP_PKEY* key = std::string(type) == "RSA"
                      ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048})
                  : std::string(type) == "EC" ? EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")
                                              : EVP_PKEY_Q_keygen(nullptr, nullptr, type);
  EXPECT_NE(key, nullptr) << type;
  BIO* bio = BIO_new(BIO_s_mem());
  int ok = public_only ? PEM_write_bio_PUBKEY(bio, key)
                       : PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  EXPECT_EQ(ok, 1);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);  // NOLINT(runtime/int)
  std::string pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  EVP_PKEY_free(key);
  return pem;
}

Keyring MustKeyring(const std::string& private_pem, const std::vector<std::string>& more = {}) {
  auto ring = Keyring::FromPem(private_pem, more);
  EXPECT_TRUE(ring.ok()) << ring.status().ToString();
  return ring.ok() ? std::move(*ring) : Keyring();
}

void ExpectSameFacts(const CertifiedFacts& a, const CertifiedFacts& b) {
  EXPECT_EQ(a.serial, b.serial);
  EXPECT_EQ(a.verification_code, b.verification_code);
  EXPECT_EQ(a.version, b.version);
  // Version 2 holds the name only as a commitment; version 1 in clear.
  if (b.version == 1) {
    EXPECT_EQ(a.participant_name, b.participant_name);
  } else {
    EXPECT_EQ(a.name_commitment, b.name_commitment);
  }
  EXPECT_EQ(a.event_title, b.event_title);
  EXPECT_EQ(a.series_title, b.series_title);
  EXPECT_EQ(a.event_start, b.event_start);
  EXPECT_EQ(a.event_end, b.event_end);
  EXPECT_EQ(a.duration_minutes, b.duration_minutes);
  EXPECT_EQ(a.language, b.language);
  EXPECT_EQ(a.issuer, b.issuer);
  EXPECT_EQ(a.issue_date, b.issue_date);
  EXPECT_EQ(a.key_id, b.key_id);
}

// ---------------------------------------------------------------------------------------------
// Keys and signatures.

TEST(Keyring, GeneratedKeyIsEd25519AndItsIdIsTheHashOfTheRawPublicKey) {
  const std::string pem = Keyring::GeneratePrivateKeyPem();
  EXPECT_EQ(pem.rfind("-----BEGIN PRIVATE KEY-----", 0), 0u) << pem;
  EXPECT_NE(Keyring::GeneratePrivateKeyPem(), pem);  // random

  Keyring ring = MustKeyring(pem);
  std::vector<PublicKeyInfo> keys = ring.PublicKeys();
  ASSERT_EQ(keys.size(), 1u);
  std::string raw;
  ASSERT_TRUE(Base64UrlDecode(keys[0].public_key_base64url, &raw));
  ASSERT_EQ(raw.size(), 32u);
  EXPECT_EQ(keys[0].key_id, Sha256Hex(raw).substr(0, 16));
  EXPECT_EQ(ring.signing_key_id(), keys[0].key_id);
  EXPECT_EQ(ring.signing_key_id().size(), 16u);
  EXPECT_TRUE(keys[0].signing);

  // The published PEM is the public key of the private one, and OpenSSL reads it as Ed25519.
  auto pub = Keyring::PublicPemOf(pem);
  ASSERT_TRUE(pub.ok()) << pub.status().ToString();
  EXPECT_EQ(*pub, keys[0].public_key_pem);
  EXPECT_EQ(pub->rfind("-----BEGIN PUBLIC KEY-----", 0), 0u);
  BIO* bio = BIO_new_mem_buf(pub->data(), static_cast<int>(pub->size()));
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(EVP_PKEY_get_base_id(key), EVP_PKEY_ED25519);
  unsigned char openssl_raw[32];
  size_t len = sizeof openssl_raw;
  ASSERT_EQ(EVP_PKEY_get_raw_public_key(key, openssl_raw, &len), 1);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(openssl_raw), len), raw);
  EVP_PKEY_free(key);
  BIO_free(bio);
}

TEST(Keyring, SignatureVerifies) {
  Keyring ring = MustKeyring(Keyring::GeneratePrivateKeyPem());
  const std::string payload = CanonicalPayload(SampleFacts("en"));
  const std::string sig = ring.Sign(payload);
  ASSERT_EQ(sig.size(), 64u);
  EXPECT_TRUE(ring.Verify(ring.signing_key_id(), payload, sig));
  EXPECT_TRUE(ring.Knows(ring.signing_key_id()));
  // Ed25519 is deterministic: the same payload, the same signature.
  EXPECT_EQ(ring.Sign(payload), sig);
  // The empty payload is a payload too.
  EXPECT_TRUE(ring.Verify(ring.signing_key_id(), "", ring.Sign("")));
}

TEST(Keyring, ChangingAnySingleByteOfThePayloadBreaksTheSignature) {
  Keyring ring = MustKeyring(Keyring::GeneratePrivateKeyPem());
  const std::string payload = CanonicalPayload(SampleFacts("en"));
  const std::string sig = ring.Sign(payload);
  ASSERT_TRUE(ring.Verify(ring.signing_key_id(), payload, sig));
  for (size_t i = 0; i < payload.size(); ++i) {
    for (unsigned char mask : {0x01, 0x80}) {
      std::string changed = payload;
      changed[i] = static_cast<char>(changed[i] ^ mask);
      EXPECT_FALSE(ring.Verify(ring.signing_key_id(), changed, sig)) << "byte " << i;
    }
  }
  EXPECT_FALSE(ring.Verify(ring.signing_key_id(), payload + " ", sig));
  EXPECT_FALSE(ring.Verify(ring.signing_key_id(), payload.substr(0, payload.size() - 1), sig));
  // And the signature itself: any changed byte, or a wrong length.
  for (size_t i = 0; i < sig.size(); ++i) {
    std::string changed = sig;
    changed[i] = static_cast<char>(changed[i] ^ 0x01);
    EXPECT_FALSE(ring.Verify(ring.signing_key_id(), payload, changed)) << "signature byte " << i;
  }
  EXPECT_FALSE(ring.Verify(ring.signing_key_id(), payload, sig.substr(0, 63)));
  EXPECT_FALSE(ring.Verify(ring.signing_key_id(), payload, sig + "x"));
  EXPECT_FALSE(ring.Verify(ring.signing_key_id(), payload, ""));
}

TEST(Keyring, PayloadSignedByAnUnknownKeyDoesNotVerify) {
  Keyring ours = MustKeyring(Keyring::GeneratePrivateKeyPem());
  Keyring theirs = MustKeyring(Keyring::GeneratePrivateKeyPem());
  ASSERT_NE(ours.signing_key_id(), theirs.signing_key_id());
  const std::string payload = CanonicalPayload(SampleFacts("en"));
  const std::string sig = theirs.Sign(payload);
  ASSERT_TRUE(theirs.Verify(theirs.signing_key_id(), payload, sig));

  EXPECT_FALSE(ours.Knows(theirs.signing_key_id()));
  EXPECT_FALSE(ours.Verify(theirs.signing_key_id(), payload, sig));
  // Claiming our key id does not help either.
  EXPECT_FALSE(ours.Verify(ours.signing_key_id(), payload, sig));
  EXPECT_FALSE(ours.Knows(""));
  EXPECT_FALSE(ours.Verify("", payload, sig));
}

TEST(Keyring, RotationStillVerifiesCertificatesSignedWithThePreviousKey) {
  const std::string previous_pem = Keyring::GeneratePrivateKeyPem();
  Keyring previous = MustKeyring(previous_pem);
  CertifiedFacts old_facts = SampleFacts("en");
  old_facts.key_id = previous.signing_key_id();
  const std::string old_payload = CanonicalPayload(old_facts);
  const std::string old_sig = previous.Sign(old_payload);

  auto previous_public = Keyring::PublicPemOf(previous_pem);
  ASSERT_TRUE(previous_public.ok());
  Keyring current = MustKeyring(Keyring::GeneratePrivateKeyPem(), {*previous_public});
  EXPECT_NE(current.signing_key_id(), previous.signing_key_id());

  // The old certificate names its key in the payload; the new keyring still knows it.
  auto parsed = ParsePayload(old_payload);
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(current.Knows(parsed->key_id));
  EXPECT_TRUE(current.Verify(parsed->key_id, old_payload, old_sig));
  // New certificates are signed with the new key, and verify only under it.
  const std::string new_payload = CanonicalPayload(SampleFacts("en"));
  const std::string new_sig = current.Sign(new_payload);
  EXPECT_TRUE(current.Verify(current.signing_key_id(), new_payload, new_sig));
  EXPECT_FALSE(current.Verify(previous.signing_key_id(), new_payload, new_sig));
  EXPECT_FALSE(previous.Verify(current.signing_key_id(), new_payload, new_sig));

  std::vector<PublicKeyInfo> keys = current.PublicKeys();
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].key_id, current.signing_key_id());
  EXPECT_TRUE(keys[0].signing);
  EXPECT_EQ(keys[1].key_id, previous.signing_key_id());
  EXPECT_FALSE(keys[1].signing);
  EXPECT_EQ(keys[1].public_key_pem, *previous_public);
  EXPECT_EQ(keys[1].public_key_base64url, previous.PublicKeys()[0].public_key_base64url);
}

TEST(Keyring, TheSigningKeyAmongThePreviousKeysIsListedOnce) {
  const std::string pem = Keyring::GeneratePrivateKeyPem();
  auto pub = Keyring::PublicPemOf(pem);
  ASSERT_TRUE(pub.ok());
  Keyring ring = MustKeyring(pem, {*pub, *pub});
  std::vector<PublicKeyInfo> keys = ring.PublicKeys();
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_TRUE(keys[0].signing);
}

TEST(Keyring, RejectsKeysThatAreNotEd25519) {
  const std::string rsa = OtherKeyPem("RSA");
  ASSERT_NE(rsa.find("BEGIN PRIVATE KEY"), std::string::npos);
  auto ring = Keyring::FromPem(rsa, {});
  ASSERT_FALSE(ring.ok());
  EXPECT_EQ(ring.status().code(), Code::kFailedPrecondition) << ring.status().ToString();
  EXPECT_EQ(Keyring::PublicPemOf(rsa).status().code(), Code::kFailedPrecondition);

  for (const char* type : {"EC", "ED448", "X25519"}) {
    auto other = Keyring::FromPem(OtherKeyPem(type), {});
    EXPECT_EQ(other.status().code(), Code::kFailedPrecondition) << type;
  }
  // A previous key that is not Ed25519 is refused too, not silently ignored.
  const std::string good = Keyring::GeneratePrivateKeyPem();
  auto with_rsa = Keyring::FromPem(good, {OtherKeyPem("RSA", /*public_only=*/true)});
  EXPECT_EQ(with_rsa.status().code(), Code::kFailedPrecondition);
}

TEST(Keyring, RejectsWhatIsNotAKey) {
  const std::string good = Keyring::GeneratePrivateKeyPem();
  for (const std::string& bad :
       {std::string(), std::string("not a key"), good.substr(0, good.size() / 2)}) {
    EXPECT_EQ(Keyring::FromPem(bad, {}).status().code(), Code::kFailedPrecondition) << bad;
    EXPECT_EQ(Keyring::FromPem(good, {bad}).status().code(), Code::kFailedPrecondition) << bad;
  }
  // A public key cannot sign.
  auto pub = Keyring::PublicPemOf(good);
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(Keyring::FromPem(*pub, {}).status().code(), Code::kFailedPrecondition);
}

TEST(Keyring, AnEmptyKeyringSignsAndVerifiesNothing) {
  Keyring empty;
  EXPECT_EQ(empty.Sign("x"), "");
  EXPECT_TRUE(empty.PublicKeys().empty());
  EXPECT_FALSE(empty.Knows(""));
  Keyring ring = MustKeyring(Keyring::GeneratePrivateKeyPem());
  EXPECT_FALSE(empty.Verify(ring.signing_key_id(), "x", ring.Sign("x")));
}

TEST(Keyring, MovesKeepTheKeys) {
  Keyring ring = MustKeyring(Keyring::GeneratePrivateKeyPem());
  const std::string id = ring.signing_key_id();
  Keyring moved(std::move(ring));
  Keyring assigned;
  assigned = std::move(moved);
  EXPECT_EQ(assigned.signing_key_id(), id);
  EXPECT_TRUE(assigned.Verify(id, "payload", assigned.Sign("payload")));
}

// ---------------------------------------------------------------------------------------------
// The canonical payload.

TEST(NameCommitmentTest, SaltedSha256OfTheNfcName) {
  // Computed independently:
  // printf 'saltZo\xc3\xab' | openssl dgst -sha256 -binary | base64 | tr '/+' '_-' | tr -d '='.
  const std::string c = NameCommitment("salt", "Zo\xC3\xAB");
  EXPECT_EQ(c, "nsiGm1lfPWcFoMBCUBHyeQc_cyO7Py2jvnxNYfQiYCQ");
  EXPECT_EQ(c, NameCommitment("salt", "Zo\xC3\xAB"));
  EXPECT_NE(c, NameCommitment("salu", "Zo\xC3\xAB"));
  EXPECT_NE(c, NameCommitment("salt", "Zoe\xCC\x88")) << "NFC is the caller's job";
  EXPECT_NE(c, NameCommitment("salt", "Zo\xC3\xAB "));
}

TEST(ParsePayloadTest, UnknownVersionsAndMixedKeysAreRefused) {
  CertifiedFacts f = SampleFacts("en");
  f.version = 3;
  EXPECT_FALSE(ParsePayload(CanonicalPayload(f)).ok());
  f.version = 2;
  std::string p = CanonicalPayload(f);
  EXPECT_TRUE(ParsePayload(p).ok());
  p.replace(p.find("name_commitment"), 15, "participant_name");
  EXPECT_FALSE(ParsePayload(p).ok());
}

TEST(CanonicalPayload, ExactBytes) {
  CertifiedFacts v2 = SampleFacts("en");
  v2.name_commitment = NameCommitment("0123456789abcdef", v2.participant_name);
  EXPECT_EQ(CanonicalPayload(v2),
            R"j({"v":2,"serial":"ECD-2020-0709-4F2K-9QXM","verification_code":"7KQ2-M9XD-44TB",)j"
            R"j("name_commitment":")j" +
                v2.name_commitment +
                R"j(","event_title":"Webinar with the countries of Africa (English)",)j"
                R"j("series_title":"Cybercrime and criminal justice in cyberspace",)j"
                R"j("event_start":"2020-07-09T08:00:00Z","event_end":"2020-07-09T09:45:00Z",)j"
                R"j("duration_minutes":100,"language":"en",)j"
                R"j("issuer":"Council of Europe, with EU Cyber Direct","issue_date":"2020-07-10",)j"
                R"j("key_id":"0123456789abcdef"})j");
  EXPECT_EQ(CanonicalPayload(v2).find("Zo"), std::string::npos) << "version 2 names nobody";
  CertifiedFacts v1 = SampleFacts("en");
  v1.version = 1;
  EXPECT_EQ(CanonicalPayload(v1),
            R"j({"serial":"ECD-2020-0709-4F2K-9QXM","verification_code":"7KQ2-M9XD-44TB",)j"
            R"j("participant_name":"Zoë Ñúñez-Çelik",)j"
            R"j("event_title":"Webinar with the countries of Africa (English)",)j"
            R"j("series_title":"Cybercrime and criminal justice in cyberspace",)j"
            R"j("event_start":"2020-07-09T08:00:00Z","event_end":"2020-07-09T09:45:00Z",)j"
            R"j("duration_minutes":100,"language":"en",)j"
            R"j("issuer":"Council of Europe, with EU Cyber Direct","issue_date":"2020-07-10",)j"
            R"j("key_id":"0123456789abcdef"})j");
  CertifiedFacts empty;
  empty.version = 1;
  EXPECT_EQ(CanonicalPayload(empty),
            R"j({"serial":"","verification_code":"","participant_name":"","event_title":"",)j"
            R"j("series_title":"","event_start":"","event_end":"","duration_minutes":0,)j"
            R"j("language":"","issuer":"","issue_date":"","key_id":""})j");
}

TEST(CanonicalPayload, Escaping) {
  CertifiedFacts f;
  f.version = 1;
  f.participant_name = "Ngozi \"Nia\" Okonjo-Iweala";
  f.event_title = "C:\\path\\to";
  f.series_title = "line one\nline two\r\ttab\x01\x1f";
  f.issuer = "Zoë Ñúñez-Çelik • Ελένη • Олена • 李 • 𝄞 • \x7f • \u2028";
  const std::string p = CanonicalPayload(f);
  EXPECT_NE(p.find(R"("participant_name":"Ngozi \"Nia\" Okonjo-Iweala")"), std::string::npos) << p;
  EXPECT_NE(p.find(R"("event_title":"C:\\path\\to")"), std::string::npos) << p;
  EXPECT_NE(p.find(R"("series_title":"line one\u000aline two\u000d\u0009tab\u0001\u001f")"),
            std::string::npos)
      << p;
  // Everything else is raw UTF-8, byte for byte (DEL and U+2028 included).
  EXPECT_NE(p.find("\"issuer\":\"" + f.issuer + "\""), std::string::npos) << p;
  // No raw control character anywhere in the payload.
  for (char c : p) EXPECT_GE(static_cast<unsigned char>(c), 0x20) << p;

  auto parsed = ParsePayload(p);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ExpectSameFacts(*parsed, f);
}

TEST(CanonicalPayload, InvalidUtf8BecomesReplacementCharacters) {
  CertifiedFacts f;
  f.version = 1;
  f.participant_name = "Zo\xEB";  // Latin-1, not UTF-8
  // An overlong '/', an encoded surrogate, a code point above U+10FFFF, a truncated sequence.
  f.event_title = "\xC0\xAF|\xED\xA0\x80|\xF4\x90\x80\x80|\xE2\x82";
  const std::string p = CanonicalPayload(f);
  EXPECT_NE(p.find("\"participant_name\":\"Zo\xEF\xBF\xBD\""), std::string::npos) << p;
  auto parsed = ParsePayload(p);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->participant_name, "Zo\uFFFD");
  EXPECT_EQ(parsed->event_title,
            "\uFFFD\uFFFD|\uFFFD\uFFFD\uFFFD|\uFFFD\uFFFD\uFFFD\uFFFD|"
            "\uFFFD\uFFFD");
  EXPECT_EQ(CanonicalPayload(*parsed), p);
}

TEST(CanonicalPayload, ParseThenSerialiseGivesTheSameBytes) {
  std::vector<CertifiedFacts> samples;
  samples.push_back(SampleFacts("en"));
  samples.push_back(CertifiedFacts{});
  CertifiedFacts tricky = SampleFacts("en");
  tricky.participant_name = "Ngozi Okonjo-Iweala";
  tricky.event_title = "\"Quotes\", \\backslashes\\ and\nnew lines: {}[],:";
  tricky.series_title = "Ciberdelincuencia y justicia penal en el ciberespacio — «2020»";
  tricky.duration_minutes = -2147483647 - 1;
  tricky.language = "es";
  samples.push_back(tricky);
  tricky.duration_minutes = 2147483647;
  samples.push_back(tricky);
  tricky.version = 1;
  samples.push_back(tricky);

  for (const CertifiedFacts& f : samples) {
    const std::string payload = CanonicalPayload(f);
    auto parsed = ParsePayload(payload);
    ASSERT_TRUE(parsed.ok()) << payload << ": " << parsed.status().ToString();
    ExpectSameFacts(*parsed, f);
    EXPECT_EQ(CanonicalPayload(*parsed), payload);
  }
}

TEST(CanonicalPayload, SignedPayloadVerifiesAfterParsingAndReserialising) {
  Keyring ring = MustKeyring(Keyring::GeneratePrivateKeyPem());
  CertifiedFacts f = SampleFacts("en");
  f.key_id = ring.signing_key_id();
  const std::string payload = CanonicalPayload(f);
  const std::string sig = ring.Sign(payload);
  auto parsed = ParsePayload(payload);
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(ring.Verify(parsed->key_id, CanonicalPayload(*parsed), sig));
}

// Each of these is the canonical (version 1) payload of SampleFacts with one thing changed.
TEST(ParsePayload, RejectsEverythingCanonicalPayloadDoesNotWrite) {
  CertifiedFacts v1 = SampleFacts("en");
  v1.version = 1;
  const std::string good = CanonicalPayload(v1);
  ASSERT_TRUE(ParsePayload(good).ok());
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) s.replace(at, from.size(), to);
    return s;
  };
  const std::string serial = R"("serial":"ECD-2020-0709-4F2K-9QXM",)";
  const std::string code = R"("verification_code":"7KQ2-M9XD-44TB",)";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"empty", ""},
      {"empty object", "{}"},
      {"not an object", "[]"},
      {"truncated", good.substr(0, good.size() - 1)},
      {"truncated inside a string", good.substr(0, 20)},
      {"leading space", " " + good},
      {"trailing space", good + " "},
      {"trailing newline", good + "\n"},
      {"trailing bytes", good + "{}"},
      {"byte order mark", "\xEF\xBB\xBF" + good},
      {"space after colon", replace(R"("serial":)", R"("serial": )")},
      {"space after comma", replace(R"(,"verification_code")", R"(, "verification_code")")},
      {"space before colon", replace(R"("serial":)", R"("serial" :)")},
      {"newline between members", replace(R"(,"key_id")", ",\n\"key_id\"")},
      {"reordered keys", replace(serial + code, code + serial)},
      {"missing key", replace(code, "")},
      {"missing last key", replace(R"(,"key_id":"0123456789abcdef")", "")},
      {"duplicated key", replace(serial, serial + serial)},
      {"unknown key", replace(serial, serial + R"("extra":"x",)")},
      {"unknown key at the end", replace(R"("0123456789abcdef"})", R"("0123456789abcdef","x":1})")},
      {"renamed key", replace(R"("serial":)", R"("Serial":)")},
      {"escaped key", replace(R"("serial":)", R"("s\u0065rial":)")},
      {"trailing comma", replace(R"("0123456789abcdef"})", R"("0123456789abcdef",})")},
      {"single quotes", replace(R"("ECD-2020-0709-4F2K-9QXM")", R"('ECD-2020-0709-4F2K-9QXM')")},
      {"null string", replace(R"("ECD-2020-0709-4F2K-9QXM")", "null")},
      {"number as string", replace("100", "\"100\"")},
      {"string as number", replace(R"("en")", "1")},
      {"leading zero", replace(":100,", ":0100,")},
      {"plus sign", replace(":100,", ":+100,")},
      {"minus zero", replace(":100,", ":-0,")},
      {"fraction", replace(":100,", ":100.0,")},
      {"exponent", replace(":100,", ":1e2,")},
      {"int overflow", replace(":100,", ":2147483648,")},
      {"int underflow", replace(":100,", ":-2147483649,")},
      {"null number", replace(":100,", ":null,")},
      {"short escape for a new line", replace("Zoë", R"(Zo\n)")},
      {"escaped slash", replace("ECD-2020", R"(ECD\/2020)")},
      {"escaped printable character", replace("Zoë", R"(Zo\u0065)")},
      {"escaped accent", replace("Zoë", R"(Zo\u00eb)")},
      {"uppercase hex escape", replace("Zoë", R"(Zo\u001F)")},
      {"truncated escape", replace("Zoë", R"(Zo\u00)")},
      {"lone backslash", replace("Zoë", R"(Zo\ë)")},
      {"raw new line", replace("Zoë", "Zo\n")},
      {"raw tab", replace("Zoë", "Zo\t")},
      {"raw NUL", replace("Zoë", std::string("Zo\0", 3))},
      {"Latin-1 byte", replace("Zoë", "Zo\xEB")},
      {"overlong slash", replace("Zoë", "Zo\xC0\xAF")},
      {"encoded surrogate", replace("Zoë", "Zo\xED\xA0\x80")},
      {"above U+10FFFF", replace("Zoë", "Zo\xF4\x90\x80\x80")},
      {"truncated sequence", replace("Zoë", "Zo\xC3")},
  };
  for (const auto& [name, payload] : cases) {
    auto parsed = ParsePayload(payload);
    EXPECT_FALSE(parsed.ok()) << name << ": " << payload;
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.status().code(), Code::kInvalidArgument) << name;
      EXPECT_EQ(parsed.status().field(), "payload") << name;
    }
  }
}

}  // namespace
}  // namespace ecd::certificates
