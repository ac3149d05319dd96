// keyd's pure pieces: base64url, JWK thumbprints (RFC 7638), the claim
// rules, the state file, TOTP (RFC 6238 vectors) and base32.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>

#include "keyd/keyring/base64url.h"
#include "keyd/keyring/claims_policy.h"
#include "keyd/keyring/jwk.h"
#include "keyd/keyring/keyring_state.h"
#include "keyd/secrets/totp.h"
#include "tests/support/temp_dir.h"

namespace orbitnest::keyd {
namespace {

TEST(Base64Url, RoundTripsAndRejectsNonCanonical) {
  for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\xff\xfe\x00", 3)}) {
    EXPECT_EQ(base64url_decode(base64url_encode(s)), s);
  }
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_FALSE(base64url_decode("Zm9v=").has_value());  // padding
  EXPECT_FALSE(base64url_decode("Zm9+").has_value());   // '+' is base64, not base64url
  EXPECT_FALSE(base64url_decode("Zh").has_value());     // non-zero leftover bits
  EXPECT_FALSE(base64url_decode("Z").has_value());
}

TEST(Jwk, ThumbprintMatchesRfc7638Example) {
  p11::PublicKey key;
  key.algorithm = p11::Algorithm::rs256;
  key.n = *base64url_decode(
      "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjh"
      "Mstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvR"
      "L5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnq"
      "DKgw");
  key.e = *base64url_decode("AQAB");
  EXPECT_EQ(jwk_thumbprint(key), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
  const boost::json::object jwk = to_jwk(key, "k1");
  EXPECT_EQ(jwk.at("kty").as_string(), "RSA");
  EXPECT_EQ(jwk.at("alg").as_string(), "RS256");
  EXPECT_EQ(jwk.at("use").as_string(), "sig");
}

class ClaimsPolicyTest : public ::testing::Test {
 protected:
  ClaimsPolicy policy{"https://h/projects/p/auth/v1", {"authenticated"}, {"authenticated", "anon"}, 3600, 60};
  std::int64_t now = 1'800'000'000;
  std::string claims(const std::string& patch = "") const {
    return R"({"iss":"https://h/projects/p/auth/v1","sub":"u1","aud":"authenticated","role":"authenticated",)"
           R"("iat":)" + std::to_string(now) + R"(,"exp":)" + std::to_string(now + 3600) + patch + "}";
  }
  std::string rejection(const std::string& text) const {
    try {
      (void)check_claims(text, policy, now);
    } catch (const ClaimsRejected& e) {
      return e.what();
    }
    return "";
  }
};

TEST_F(ClaimsPolicyTest, AcceptsWhatTheKeyringAllows) {
  EXPECT_EQ(rejection(claims(R"(,"email":"a@b.c","user_metadata":{"name":"Jane"})")), "");
  EXPECT_EQ(rejection(claims().replace(claims().find("\"aud\":\"authenticated\""), 21, R"("aud":["authenticated"])")), "");
}

TEST_F(ClaimsPolicyTest, RefusesEverythingElse) {
  std::string c = claims();
  EXPECT_EQ(rejection(std::string(c).replace(c.find("projects/p/"), 11, "projects/q/")), "iss is not this keyring's issuer");
  EXPECT_EQ(rejection(std::string(c).replace(c.find("\"role\":\"authenticated\""), 22, R"("role":"service_role")")),
            "role is not allowed for this keyring");
  EXPECT_EQ(rejection(std::string(c).replace(c.find("\"aud\":\"authenticated\""), 21, R"("aud":"admin")")),
            "aud is not allowed for this keyring");
  EXPECT_EQ(rejection(std::string(c).replace(c.find("\"sub\":\"u1\""), 10, R"("sub":"")")),
            "sub must be a non-empty string");
  EXPECT_EQ(rejection(std::string(c).replace(c.find(std::to_string(now + 3600)), 10, std::to_string(now + 3601))),
            "lifetime (exp - iat) exceeds the maximum of 3600 s");
  EXPECT_EQ(rejection(std::string(c).replace(c.find(std::to_string(now) + ","), 10, std::to_string(now - 600))),
            "iat is not within the allowed clock skew of now");
  EXPECT_EQ(rejection(std::string(c).replace(c.find(std::to_string(now + 3600)), 10, std::to_string(now - 1))),
            "exp must be in the future and after iat");
  EXPECT_EQ(rejection(std::string(c).replace(c.find(std::to_string(now + 3600)), 10, "\"soon\"")),
            "exp must be an integer (seconds since the epoch)");
  EXPECT_EQ(rejection(claims(R"(,"nbf":)" + std::to_string(now + 600))), "nbf is in the future");
  EXPECT_EQ(rejection("[1,2]"), "claims must be one JSON object");
  EXPECT_EQ(rejection("{\"iss\":"), "claims must be one JSON object");
  EXPECT_EQ(rejection(std::string(20000, ' ')), "claims larger than 16 KiB");
}

TEST(KeyringState, SerialisesAndParsesBack) {
  KeydStateFile s;
  Keyring r;
  r.name = "project:abc";
  r.issuer = "https://h/projects/abc/auth/v1";
  r.algorithm = p11::Algorithm::eddsa;
  r.versions = {{1, "k1", KeyState::previous, 10, 11, 12, 0, ""}, {2, "k2", KeyState::current, 11, 12, 0, 0, ""}};
  s.keyrings.emplace(r.name, r);
  s.sealing = {2, {1, 2}};
  s.pepper = {1, {1}};
  s.audit_key_version = 1;
  const KeydStateFile back = parse_state(serialize_state(s));
  EXPECT_EQ(serialize_state(back), serialize_state(s));
  EXPECT_EQ(back.keyrings.at("project:abc").find(KeyState::current)->kid, "k2");
  EXPECT_THROW(parse_state("{}"), StateFileError);
  EXPECT_THROW(parse_state("not json"), StateFileError);

  test::TempDir dir;
  save_state(dir.file("s.json"), s);
  EXPECT_EQ(serialize_state(*load_state(dir.file("s.json"))), serialize_state(s));
  EXPECT_FALSE(load_state(dir.file("absent.json")).has_value());
}

hardening::SecretBytes rfc6238_seed() {
  const std::string ascii = "12345678901234567890";
  hardening::SecretBytes seed(ascii.size());
  std::memcpy(seed.data(), ascii.data(), ascii.size());
  return seed;
}

TEST(Totp, Rfc6238Sha1Vectors) {
  const hardening::SecretBytes seed = rfc6238_seed();
  const std::vector<std::pair<std::int64_t, std::string>> vectors = {
      {59, "94287082"}, {1111111109, "07081804"}, {1111111111, "14050471"},
      {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"}};
  for (const auto& [t, code] : vectors) {
    EXPECT_EQ(totp_code(seed, static_cast<std::uint64_t>(t / 30), 8), code) << t;
    EXPECT_EQ(totp_code(seed, static_cast<std::uint64_t>(t / 30)), code.substr(2)) << t;
  }
}

TEST(Totp, AcceptsAdjacentStepsOnlyAndRefusesReplays) {
  const hardening::SecretBytes seed = rfc6238_seed();
  const std::int64_t t = 1111111111;  // step 37037037
  const std::uint64_t step = t / 30;
  EXPECT_EQ(totp_match(seed, totp_code(seed, step), t, 0), step);
  EXPECT_EQ(totp_match(seed, totp_code(seed, step - 1), t, 0), step - 1);
  EXPECT_EQ(totp_match(seed, totp_code(seed, step + 1), t, 0), step + 1);
  EXPECT_FALSE(totp_match(seed, totp_code(seed, step + 2), t, 0).has_value());
  EXPECT_FALSE(totp_match(seed, totp_code(seed, step), t, step).has_value()) << "a used step is a replay";
  EXPECT_FALSE(totp_match(seed, "000000", t, 0).has_value());
  EXPECT_FALSE(totp_match(seed, "12345", t, 0).has_value());
}

TEST(Totp, Base32AndUri) {
  const std::string hello = "Hello!\xde\xad\xbe\xef";
  EXPECT_EQ(base32_encode(reinterpret_cast<const std::uint8_t*>(hello.data()), hello.size()), "JBSWY3DPEHPK3PXP");
  EXPECT_EQ(otpauth_uri(rfc6238_seed(), "Orbit Nest", "jane@example.com"),
            "otpauth://totp/Orbit%20Nest:jane@example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Orbit%20Nest"
            "&algorithm=SHA1&digits=6&period=30");
}

}  // namespace
}  // namespace orbitnest::keyd
