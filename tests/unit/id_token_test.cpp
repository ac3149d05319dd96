// An OpenID provider's discovery, JWKS and ID tokens (authd/oauth/id_token.h)
// read as untrusted bytes: every check of OIDC Core §3.1.3.7 that social
// sign-in relies on refuses what it must, and only that. Keys and tokens
// are made here with Botan, as a provider would.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <botan/auto_rng.h>
#include <botan/ecdsa.h>
#include <botan/pubkey.h>
#include <botan/rsa.h>

#include <functional>

#include "authd/oauth/github_client.h"
#include "authd/oauth/id_token.h"
#include "keyd/keyring/base64url.h"

namespace orbitnest::authd {
namespace {

using keyd::base64url_encode;

constexpr std::int64_t kNow = 1'800'000'000;
constexpr const char* kIssuer = "https://accounts.example";

std::string bytes_of(const Botan::BigInt& n, std::size_t width = 0) {
  const Botan::secure_vector<std::uint8_t> v = Botan::BigInt::encode_1363(n, width == 0 ? n.bytes() : width);
  return std::string(v.begin(), v.end());
}

struct Provider {
  Botan::AutoSeeded_RNG rng;
  Botan::ECDSA_PrivateKey ec{rng, Botan::EC_Group("secp256r1")};
  Botan::RSA_PrivateKey rsa{rng, 2048};

  boost::json::object ec_jwk(const std::string& kid) const {
    return {{"kty", "EC"}, {"crv", "P-256"}, {"kid", kid}, {"use", "sig"},
            {"x", base64url_encode(bytes_of(ec.public_point().get_affine_x(), 32))},
            {"y", base64url_encode(bytes_of(ec.public_point().get_affine_y(), 32))}};
  }
  boost::json::object rsa_jwk(const std::string& kid) const {
    return {{"kty", "RSA"}, {"kid", kid}, {"use", "sig"}, {"n", base64url_encode(bytes_of(rsa.get_n()))},
            {"e", base64url_encode(bytes_of(rsa.get_e()))}};
  }
  std::string jwks() const {
    return boost::json::serialize(boost::json::object{{"keys", boost::json::array{ec_jwk("ec1"), rsa_jwk("rsa1")}}});
  }
  // A token signed by this provider's EC (ES256) or RSA (RS256) key.
  std::string sign(const boost::json::object& header, const boost::json::object& claims, bool with_rsa = false) {
    const std::string input = base64url_encode(boost::json::serialize(header)) + "." +
                              base64url_encode(boost::json::serialize(claims));
    Botan::PK_Signer signer(with_rsa ? static_cast<Botan::Private_Key&>(rsa) : static_cast<Botan::Private_Key&>(ec),
                            rng, with_rsa ? "EMSA3(SHA-256)" : "EMSA1(SHA-256)", Botan::IEEE_1363);
    const std::vector<std::uint8_t> sig =
        signer.sign_message(reinterpret_cast<const std::uint8_t*>(input.data()), input.size(), rng);
    return input + "." + base64url_encode(std::string(sig.begin(), sig.end()));
  }
};

boost::json::object good_claims() {
  return {{"iss", kIssuer}, {"aud", "client-1"}, {"sub", "10769150350006150715113082367"},
          {"email", "ada@example.com"}, {"email_verified", true}, {"name", "Ada"},
          {"nonce", "n-0S6_WzA2Mj"}, {"iat", kNow - 5}, {"exp", kNow + 3600}};
}

const IdTokenCheck kCheck{kIssuer, "client-1", "n-0S6_WzA2Mj", kNow};
const boost::json::object kEcHeader{{"alg", "ES256"}, {"kid", "ec1"}, {"typ", "JWT"}};

class IdTokens : public ::testing::Test {
 protected:
  Provider provider;
  ProviderKeys keys = parse_jwks(provider.jwks());

  std::string refusal(const std::string& token, const IdTokenCheck& check = kCheck) const {
    try {
      (void)verify_id_token(token, keys, check);
      return "accepted";
    } catch (const ProviderError& e) {
      EXPECT_EQ(e.code(), "bad_oauth_callback");
      return e.what();
    }
  }
  std::string with(const std::function<void(boost::json::object&)>& change) {
    boost::json::object claims = good_claims();
    change(claims);
    return provider.sign(kEcHeader, claims);
  }
};

TEST_F(IdTokens, AGoodTokenGivesTheIdentityByEitherAlgorithm) {
  const ProviderIdentity es = verify_id_token(provider.sign(kEcHeader, good_claims()), keys, kCheck);
  EXPECT_EQ(es.subject, "10769150350006150715113082367");
  EXPECT_EQ(es.email, "ada@example.com");
  EXPECT_TRUE(es.email_verified);
  EXPECT_EQ(es.name, "Ada");
  const ProviderIdentity rs =
      verify_id_token(provider.sign({{"alg", "RS256"}, {"kid", "rsa1"}}, good_claims(), true), keys, kCheck);
  EXPECT_EQ(rs.subject, es.subject);
}

TEST_F(IdTokens, OnlyAcceptedAlgorithmsAndThePublishedKeysVerify) {
  boost::json::object none{{"alg", "none"}, {"kid", "ec1"}};
  const std::string unsigned_token =
      base64url_encode(boost::json::serialize(none)) + "." + base64url_encode(boost::json::serialize(good_claims())) + ".";
  EXPECT_NE(refusal(unsigned_token).find("algorithm"), std::string::npos);
  EXPECT_NE(refusal(provider.sign({{"alg", "HS256"}, {"kid", "ec1"}}, good_claims())).find("algorithm"), std::string::npos);
  EXPECT_NE(refusal(provider.sign({{"alg", "ES256"}, {"kid", "other"}}, good_claims())).find("does not publish"),
            std::string::npos);
  // An RS256 header over the EC key's kid: no algorithm confusion.
  EXPECT_NE(refusal(provider.sign({{"alg", "RS256"}, {"kid", "ec1"}}, good_claims(), true)).find("signature"),
            std::string::npos);
  // Another key under the published kid.
  Provider forger;
  EXPECT_NE(refusal(forger.sign(kEcHeader, good_claims())).find("signature"), std::string::npos);
  // No kid: only when the set holds a single key.
  EXPECT_NE(refusal(provider.sign({{"alg", "ES256"}}, good_claims())).find("does not publish"), std::string::npos);
  const ProviderKeys one = parse_jwks(boost::json::serialize(boost::json::object{{"keys", boost::json::array{provider.ec_jwk("ec1")}}}));
  EXPECT_NO_THROW((void)verify_id_token(provider.sign({{"alg", "ES256"}}, good_claims()), one, kCheck));
  // A flipped byte of the payload.
  std::string token = provider.sign(kEcHeader, good_claims());
  token[token.find('.') + 5] ^= 0x01;
  EXPECT_NE(refusal(token), "accepted");
}

TEST_F(IdTokens, EveryClaimCheckRefusesItsCase) {
  EXPECT_NE(refusal(with([](auto& c) { c["iss"] = "https://evil.example"; })).find("issuer"), std::string::npos);
  EXPECT_NE(refusal(with([](auto& c) { c["aud"] = "client-2"; })).find("another client"), std::string::npos);
  EXPECT_NE(refusal(with([](auto& c) { c["aud"] = boost::json::array{"client-1", "client-2"}; })).find("several"),
            std::string::npos);
  EXPECT_EQ(refusal(with([](auto& c) {
              c["aud"] = boost::json::array{"client-1", "client-2"};
              c["azp"] = "client-1";
            })),
            "accepted");
  EXPECT_NE(refusal(with([](auto& c) { c["exp"] = kNow - 61; })).find("expired"), std::string::npos);
  EXPECT_EQ(refusal(with([](auto& c) { c["exp"] = kNow - 30; })), "accepted");  // within the leeway
  EXPECT_NE(refusal(with([](auto& c) { c.erase("exp"); })).find("expired"), std::string::npos);
  EXPECT_NE(refusal(with([](auto& c) { c["iat"] = kNow + 120; })).find("time"), std::string::npos);
  EXPECT_NE(refusal(with([](auto& c) { c["iat"] = kNow - 3600; })).find("time"), std::string::npos);
  EXPECT_NE(refusal(with([](auto& c) { c["nonce"] = "another"; })).find("nonce"), std::string::npos);
  EXPECT_NE(refusal(with([](auto& c) { c.erase("nonce"); })).find("nonce"), std::string::npos);
  EXPECT_NE(refusal(with([](auto& c) { c.erase("sub"); })).find("subject"), std::string::npos);
  EXPECT_NE(refusal(with([](auto& c) { c["sub"] = ""; })).find("subject"), std::string::npos);
  // An empty expected nonce never matches (a flow always has one).
  IdTokenCheck no_nonce = kCheck;
  no_nonce.nonce = "";
  EXPECT_NE(refusal(with([](auto& c) { c["nonce"] = ""; }), no_nonce).find("nonce"), std::string::npos);
}

TEST_F(IdTokens, EmailVerifiedIsTrueOrTheStringTrueAndNothingElse) {
  const auto verified = [&](const boost::json::value& v) {
    return verify_id_token(with([&](auto& c) { c["email_verified"] = v; }), keys, kCheck).email_verified;
  };
  EXPECT_TRUE(verified(true));
  EXPECT_TRUE(verified("true"));
  EXPECT_FALSE(verified(false));
  EXPECT_FALSE(verified("false"));
  EXPECT_FALSE(verified(1));
  EXPECT_FALSE(verify_id_token(with([](auto& c) { c.erase("email_verified"); }), keys, kCheck).email_verified);
}

TEST_F(IdTokens, MalformedTokensAreRefusedNotThrownThrough) {
  for (const std::string& token : {std::string(), std::string("a.b"), std::string("a.b.c.d"), std::string("!!.!!.!!"),
                                   base64url_encode("[1]") + "." + base64url_encode("{}") + ".",
                                   std::string(40000, 'a')}) {
    EXPECT_NE(refusal(token), "accepted") << token.substr(0, 40);
  }
}

TEST(ProviderDocuments, DiscoveryMustNameItsIssuerAndHttpsEndpoints) {
  const std::string good = R"({"issuer":"https://accounts.example","authorization_endpoint":"https://accounts.example/auth",)"
                           R"("token_endpoint":"https://accounts.example/token","jwks_uri":"https://accounts.example/jwks"})";
  const OidcEndpoints e = parse_discovery(good, kIssuer);
  EXPECT_EQ(e.token_endpoint, "https://accounts.example/token");
  EXPECT_THROW(parse_discovery(good, "https://accounts.example/"), ProviderError);  // exactly the issuer asked
  std::string http = good;
  http.replace(http.find("https://accounts.example/token"), 8, "http://");
  EXPECT_THROW(parse_discovery(http, kIssuer), ProviderError);
  EXPECT_THROW(parse_discovery("[]", kIssuer), ProviderError);
  EXPECT_THROW(parse_discovery("{", kIssuer), ProviderError);
}

TEST(ProviderDocuments, JwksKeepsSigningKeysOnly) {
  Provider p;
  boost::json::object enc = p.ec_jwk("enc1");
  enc["use"] = "enc";
  const ProviderKeys keys = parse_jwks(boost::json::serialize(
      boost::json::object{{"keys", boost::json::array{enc, p.rsa_jwk("rsa1"), boost::json::object{{"kty", "oct"}, {"k", "AAAA"}}, 7}}}));
  EXPECT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys.count("rsa1"), 1u);
  EXPECT_THROW(parse_jwks(boost::json::serialize(boost::json::object{{"keys", boost::json::array{enc}}})), ProviderError);
  EXPECT_THROW(parse_jwks(R"({"keys": {}})"), ProviderError);
  EXPECT_THROW(parse_jwks("not json"), ProviderError);
}

// GitHub (no ID token): the numeric id is the subject, and only the
// PRIMARY address counts, verified or not — a secondary address is
// anyone's to add to their account, so it must never link an admin.
TEST(GitHubIdentity, TheIdAndTheVerifiedPrimaryAddress) {
  const std::string user = R"({"login":"octocat","id":583231,"name":"The Octocat","email":"public@example.com"})";
  const ProviderIdentity id = github_identity(
      user, R"([{"email":"admin@example.com","primary":false,"verified":true},)"
            R"({"email":"octo@example.com","primary":true,"verified":true,"visibility":"public"}])");
  EXPECT_EQ(id.subject, "583231");
  EXPECT_EQ(id.email, "octo@example.com");
  EXPECT_TRUE(id.email_verified);
  EXPECT_EQ(id.name, "The Octocat");
  // The public profile address is not the one that counts.
  EXPECT_NE(id.email, "public@example.com");
  const ProviderIdentity unverified =
      github_identity(user, R"([{"email":"octo@example.com","primary":true,"verified":false}])");
  EXPECT_FALSE(unverified.email_verified);
  const ProviderIdentity secondary_only =
      github_identity(user, R"([{"email":"admin@example.com","primary":false,"verified":true}])");
  EXPECT_TRUE(secondary_only.email.empty());
  EXPECT_FALSE(secondary_only.email_verified);
  EXPECT_FALSE(github_identity(user, R"([{"email":"o@example.com","primary":"true","verified":"true"}])").email_verified);
  EXPECT_EQ(github_identity(R"({"login":"octocat","id":1,"name":null})", "[]").name, "octocat");
}

TEST(GitHubIdentity, MalformedAnswersAreRefused) {
  for (const auto& [user, emails] : std::vector<std::pair<std::string, std::string>>{
           {R"({"login":"x"})", "[]"},                 // no id
           {R"({"login":"x","id":"583231"})", "[]"},   // id as text: not GitHub's
           {R"({"login":"x","id":-1})", "[]"},
           {R"([])", "[]"},
           {R"({"id":1})", R"({"email":"x"})"},
           {"not json", "[]"},
           {R"({"id":1})", "not json"}}) {
    EXPECT_THROW(github_identity(user, emails), ProviderError) << user << " " << emails;
  }
}

}  // namespace
}  // namespace orbitnest::authd
