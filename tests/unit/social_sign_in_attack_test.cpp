// An attacker's review of social sign-in for admins at the C++ level: the
// admin.oauth settings checked at start (config/authd_config.cpp,
// read_admin_oauth) and the compact JWS reader shared by ID tokens and our
// access tokens (authd/tokens/compact_jws.cpp). The end-to-end attacks are in
// tests/e2e/admin_social_attacks.test.mjs.
//
// Tests that proved a defect start with a `DEFECT (severity):` comment; they
// failed against 3144191 and pass since the fix that followed (regression
// tests now). The others pin properties that hold.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <botan/auto_rng.h>
#include <botan/ecdsa.h>
#include <botan/ed25519.h>
#include <botan/pubkey.h>
#include <botan/rsa.h>

#include "authd/tokens/compact_jws.h"
#include "config/authd_config.h"
#include "config/config_error.h"
#include "keyd/keyring/base64url.h"
#include "tests/support/temp_dir.h"

namespace orbitnest {
namespace {

using keyd::base64url_encode;

// ---------------------------------------------------------------------------
// admin.oauth in authd.yaml

class SocialConfigAttack : public ::testing::Test {
 protected:
  void SetUp() override {
    cert = dir.file("tls.crt");
    key = dir.file("tls.key");
    secret = dir.file("client.secret");
    test::write_file(cert, "cert");
    test::write_file(key, "key", 0600);
    test::write_file(secret, "s3cret\n", 0600);
  }
  // A valid authd.yaml with one provider `name` and the given extra lines of
  // admin.oauth (each indented by four spaces).
  std::string with_oauth(const std::string& oauth_extra, const std::string& name = "google",
                         const std::string& redirect_urls = "[\"https://admin.example/studio/\"]") const {
    return "listen:\n  address: 127.0.0.1\n  port: 8443\n"
           "tls:\n  cert_file: " + cert + "\n  key_file: " + key + "\n"
           "keyd:\n  socket_path: /run/orbitnest/keyd.sock\n"
           "database:\n  conninfo: host=/run/postgresql dbname=orbitnest\n"
           "admin:\n  oauth:\n    callback_url: https://admin.example/admin/v1/callback\n"
           "    redirect_urls: " + redirect_urls + "\n" + oauth_extra +
           "    providers:\n      " + name + ":\n        issuer: https://accounts.google.com\n"
           "        client_id: abc.apps.googleusercontent.com\n        client_secret_file: " + secret + "\n";
  }
  static std::string error_of(const std::string& text) {
    try {
      (void)config::parse_authd_config(text, "authd.yaml");
    } catch (const config::ConfigError& e) {
      return e.what();
    }
    return "";
  }
  test::TempDir dir;
  std::string cert;
  std::string key;
  std::string secret;
};

TEST_F(SocialConfigAttack, TheBaseConfigurationIsValid) {
  EXPECT_EQ(error_of(with_oauth("")), "");
  EXPECT_EQ(error_of(with_oauth("    signup_domains: [\"signup.example\", \"B\\u00fccher.example\"]\n")), "");
}

TEST_F(SocialConfigAttack, AProviderCannotBeNamedAfterTheBuiltInIdentities) {
  // DEFECT (low): a provider's name is the `provider` column of
  // auth.admin_identities, where every admin made with a password already
  // has an identity ('email', provider_id = the admin's UUID; 'phone'
  // likewise). read_admin_oauth accepts a provider named "email" or "phone":
  // resolve_admin then looks up (provider, sub) = ("email", <sub>) and an
  // account of that provider whose `sub` is an admin's UUID (UUIDs are no
  // secret: every access token's `sub`, the admin list, audit lines) signs in
  // AS that admin through the "linked before" branch — no email, verified or
  // not, is looked at — and touch() rewrites the email identity's data with
  // the provider's claims. Providers that let a person choose their `sub`
  // (self-hosted IdPs mapping sub to a username) make this a takeover. Fix:
  // refuse the names email, phone (and any built-in provider name) in
  // read_admin_oauth, or store social identities under a prefix
  // ("oidc:<name>").
  for (const char* reserved : {"email", "phone"}) {
    EXPECT_NE(error_of(with_oauth("", reserved)), "")
        << "a social provider named '" << reserved << "' shares the identities of password admins";
  }
}

TEST_F(SocialConfigAttack, SignupDomainsMustBeDomainNamesTheCallbackCanUse) {
  // DEFECT (low): signup_domains is checked only for '@', '/' and ' '. An
  // operator's "*.example.com" (meaning its subdomains), "example" (no dot)
  // or "exa_mple.com" passes `authd --check-config`, and then may_sign_up
  // (social_sign_in.cpp) calls canonical_email("x@" + entry), which throws
  // ApiError: every callback for an address without an admin ends in a bare
  // 400 validation_failed JSON page (the state spent, nothing sent back to
  // redirect_to), for the allowed domains listed after it too. Fix: run each
  // entry through canonical_email's domain rules at start (and say that
  // subdomains are not implied).
  for (const char* entry : {"*.example.com", "example", "exa_mple.com", ".example.com", "example.com."}) {
    EXPECT_NE(error_of(with_oauth(std::string("    signup_domains: [\"") + entry + "\"]\n")), "")
        << "signup_domains entry '" << entry << "' accepted";
  }
}

TEST_F(SocialConfigAttack, RedirectUrlsMustPinAnHttpsOriginOrALoopbackOne) {
  // DEFECT (low): web_url() takes "http://localhost" followed by ':' as a
  // loopback URL, so "http://localhost:@evil.test/after" (userinfo
  // "localhost:", host evil.test, cleartext) passes as a redirect_urls entry;
  // and a trailing '*' right after the host ("https://studio.example*")
  // makes url_allowed accept "https://studio.example.evil.test/…" and
  // "https://studio.example@evil.test/…". Both send admins' sign-in codes to
  // another host on a plausible-looking configuration. Fix: parse each entry
  // as a URL at start; require https (http only for a loopback host, with no
  // userinfo), and a '*' only after a path '/'.
  for (const char* entry : {"http://localhost:@evil.test/after", "http://127.0.0.1:@evil.test/after",
                            "https://studio.example*"}) {
    EXPECT_NE(error_of(with_oauth("", "google", std::string("[\"") + entry + "\"]")), "")
        << "redirect_urls entry '" << entry << "' accepted";
  }
  // What must stay accepted.
  for (const char* entry : {"http://localhost:3000/studio", "https://studio.example/app/*", "https://studio.example"}) {
    EXPECT_EQ(error_of(with_oauth("", "google", std::string("[\"") + entry + "\"]")), "") << entry;
  }
}

// ---------------------------------------------------------------------------
// compact_jws: what both token readers rely on

std::string b64json(const boost::json::object& o) { return base64url_encode(boost::json::serialize(o)); }

const boost::json::object kClaims{{"iss", "https://issuer.example"}, {"sub", "s"}, {"exp", 1900000000}};

struct Keys {
  Botan::AutoSeeded_RNG rng;
  Botan::ECDSA_PrivateKey ec{rng, Botan::EC_Group("secp256r1")};
  Botan::RSA_PrivateKey rsa{rng, 2048};
  Botan::Ed25519_PrivateKey ed{rng};

  std::string sign(const boost::json::object& header, Botan::Private_Key& key, const std::string& padding,
                   Botan::Signature_Format format = Botan::IEEE_1363) {
    const std::string input = b64json(header) + "." + b64json(kClaims);
    Botan::PK_Signer signer(key, rng, padding, format);
    const std::vector<std::uint8_t> sig =
        signer.sign_message(reinterpret_cast<const std::uint8_t*>(input.data()), input.size(), rng);
    return input + "." + base64url_encode(std::string(sig.begin(), sig.end()));
  }
};

std::string parse_error(const std::string& token) {
  try {
    (void)authd::parse_compact_jws(token);
    return "parsed";
  } catch (const authd::JwsError& e) {
    return e.what();
  }
}

TEST(CompactJwsAttack, OnlyTheThreeAsymmetricAlgorithmsParse) {
  for (const char* alg : {"none", "None", "NONE", "HS256", "HS512", "RS384", "PS256", "ES384", "ES256K", "Ed25519",
                          "es256", "RS256 ", ""}) {
    const std::string token = b64json({{"alg", alg}, {"kid", "k"}}) + "." + b64json(kClaims) + ".AAAA";
    EXPECT_NE(parse_error(token).find("algorithm"), std::string::npos) << alg;
  }
  const std::string no_alg = b64json({{"kid", "k"}}) + "." + b64json(kClaims) + ".AAAA";
  EXPECT_NE(parse_error(no_alg).find("algorithm"), std::string::npos);
  const std::string alg_not_string = b64json({{"alg", boost::json::array{"RS256"}}}) + "." + b64json(kClaims) + ".AAAA";
  EXPECT_NE(parse_error(alg_not_string).find("algorithm"), std::string::npos);
}

TEST(CompactJwsAttack, CritHeadersAndOversizedOrMisshapenTokensAreRefused) {
  const std::string crit =
      b64json({{"alg", "ES256"}, {"kid", "k"}, {"crit", boost::json::array{"b64"}}, {"b64", false}}) + "." +
      b64json(kClaims) + ".AAAA";
  EXPECT_NE(parse_error(crit).find("critical"), std::string::npos);
  const std::string big = b64json({{"alg", "ES256"}}) + "." + std::string(authd::kMaxCompactJwsBytes, 'A') + ".AAAA";
  EXPECT_NE(parse_error(big).find("too large"), std::string::npos);
  EXPECT_NE(parse_error(b64json({{"alg", "ES256"}}) + "." + b64json(kClaims)), "parsed");
  EXPECT_NE(parse_error(b64json({{"alg", "ES256"}}) + "." + b64json(kClaims) + ".AA.AA"), "parsed");
  EXPECT_NE(parse_error(b64json({{"alg", "ES256"}}) + "." + base64url_encode("[1]") + ".AA"), "parsed");
}

TEST(CompactJwsAttack, ASignatureVerifiesOnlyWithAKeyOfItsAlgorithmsKind) {
  Keys k;
  const authd::CompactJws es = authd::parse_compact_jws(k.sign({{"alg", "ES256"}}, k.ec, "EMSA1(SHA-256)"));
  const authd::CompactJws rs = authd::parse_compact_jws(k.sign({{"alg", "RS256"}}, k.rsa, "EMSA3(SHA-256)"));
  const authd::CompactJws ed = authd::parse_compact_jws(k.sign({{"alg", "EdDSA"}}, k.ed, "Pure"));
  EXPECT_TRUE(authd::jws_signature_valid(es, k.ec));
  EXPECT_TRUE(authd::jws_signature_valid(rs, k.rsa));
  EXPECT_TRUE(authd::jws_signature_valid(ed, k.ed));
  // Every header/key pairing across kinds is refused, whatever the bytes.
  for (const authd::CompactJws* jws : {&es, &rs, &ed}) {
    int valid = 0;
    for (const Botan::Public_Key* key :
         {static_cast<const Botan::Public_Key*>(&k.ec), static_cast<const Botan::Public_Key*>(&k.rsa),
          static_cast<const Botan::Public_Key*>(&k.ed)}) {
      valid += authd::jws_signature_valid(*jws, *key) ? 1 : 0;
    }
    EXPECT_EQ(valid, 1) << jws->alg;
  }
  // An RS256 signature relabelled ES256 (and so on) never verifies.
  authd::CompactJws relabelled = rs;
  relabelled.alg = "ES256";
  EXPECT_FALSE(authd::jws_signature_valid(relabelled, k.ec));
  EXPECT_FALSE(authd::jws_signature_valid(relabelled, k.rsa));
  // ES256 is IEEE P1363 (r||s) only: a DER signature of the same message is refused.
  const authd::CompactJws der =
      authd::parse_compact_jws(k.sign({{"alg", "ES256"}}, k.ec, "EMSA1(SHA-256)", Botan::DER_SEQUENCE));
  EXPECT_FALSE(authd::jws_signature_valid(der, k.ec));
  // The signature covers the header: another kid over the same signature fails.
  authd::CompactJws moved = es;
  moved.signing_input = b64json({{"alg", "ES256"}, {"kid", "other"}}) +
                        moved.signing_input.substr(moved.signing_input.find('.'));
  EXPECT_FALSE(authd::jws_signature_valid(moved, k.ec));
}

}  // namespace
}  // namespace orbitnest
