// Signing through the real keyd on a real SoftHSM2 token: every algorithm
// verifies with Botan and with openssl, and keyd refuses claims outside
// its keyring's rules.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "tests/support/jws_check.h"
#include "tests/support/keyd_session.h"

namespace orbitnest::test {
namespace {

using keyd::Op;
using keyd::Status;

class SigningPerAlgorithm : public ::testing::TestWithParam<std::string> {};

TEST_P(SigningPerAlgorithm, SignedTokensVerifyWithBotanAndOpenssl) {
  Appliance a(false);
  KeydOptions o;
  o.project_algorithm = GetParam();
  o.admin_algorithm = GetParam();
  auto keyd = a.start_keyd({}, a.write_config("keyd.yaml", a.keyd_yaml(o)));
  keyd::KeydConnection conn = connect_when_ready(a);
  const keyd::Frame ring = conn.call(Op::ensure_keyring, {"demo"});
  EXPECT_EQ(ring.fields.at(0), "project:demo");
  EXPECT_EQ(ring.fields.at(1), "https://localhost/projects/demo/auth/v1");
  const std::string claims = project_claims("demo");
  const std::string jws(conn.call(Op::sign_jwt, {"project:demo", claims}).fields.at(0));
  const std::string jwks(conn.call(Op::jwks, {"project:demo"}).fields.at(0));

  const JwsParts parts = split_jws(jws);
  const boost::json::value header = boost::json::parse(parts.header_json);
  EXPECT_EQ(header.at("alg").as_string(), GetParam());
  EXPECT_EQ(header.at("typ").as_string(), "JWT");
  EXPECT_EQ(boost::json::parse(parts.payload_json), boost::json::parse(claims));
  EXPECT_EQ(botan_verify_jws(jws, jwks), "");
  EXPECT_EQ(openssl_verify_jws(jws, jwks, a.dir.path()), "");

  // The JWKS publishes current and next, each with the fields clients need.
  const boost::json::array keys = boost::json::parse(jwks).at("keys").as_array();
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].at("kid"), header.at("kid")) << "the current key comes first";
  for (const boost::json::value& k : keys) {
    EXPECT_EQ(k.at("use").as_string(), "sig");
    EXPECT_EQ(k.at("alg").as_string(), GetParam());
    EXPECT_FALSE(k.as_object().contains("d")) << "no private part, ever";
  }

  // A flipped signature byte must not verify (the checks can fail).
  std::string forged = jws;
  forged[forged.size() - 3] = forged[forged.size() - 3] == 'A' ? 'B' : 'A';
  EXPECT_NE(botan_verify_jws(forged, jwks), "");
  EXPECT_NE(openssl_verify_jws(forged, jwks, a.dir.path()), "");

  // The admin keyring signs with its own key: a project JWKS does not know it.
  const std::int64_t now = unix_now();
  const std::string admin_claims = R"({"iss":"https://localhost/admin","sub":"a1","aud":"orbitnest-admin",)"
                                   R"("role":"admin","iat":)" + std::to_string(now) + R"(,"exp":)" +
                                   std::to_string(now + 60) + "}";
  const std::string admin_jws(conn.call(Op::sign_jwt, {"admin", admin_claims}).fields.at(0));
  EXPECT_EQ(botan_verify_jws(admin_jws, std::string(conn.call(Op::jwks, {"admin"}).fields.at(0))), "");
  EXPECT_NE(botan_verify_jws(admin_jws, jwks), "");
}

INSTANTIATE_TEST_SUITE_P(Keyd, SigningPerAlgorithm, ::testing::Values("ES256", "RS256", "EdDSA"));

TEST(KeydSigning, RefusesClaimsOutsideTheKeyringRules) {
  Appliance a(false);
  auto keyd = a.start_keyd();
  keyd::KeydConnection conn = connect_when_ready(a);
  conn.call(Op::ensure_keyring, {"demo"});
  const auto refused = [&](const std::string& keyring, const std::string& claims) -> std::string {
    try {
      conn.call(Op::sign_jwt, {keyring, claims});
    } catch (const keyd::KeydError& e) {
      EXPECT_EQ(e.status(), Status::bad_request);
      return e.what();
    }
    return "";
  };
  EXPECT_NE(refused("project:demo", project_claims("demo", 600, "service_role")).find("role is not allowed"),
            std::string::npos);
  EXPECT_NE(refused("project:demo", project_claims("demo", 10 * 365 * 86400)).find("lifetime"), std::string::npos);
  EXPECT_NE(refused("project:demo", project_claims("other")).find("iss is not this keyring's issuer"),
            std::string::npos);
  EXPECT_NE(refused("admin", project_claims("demo")).find("iss is not"), std::string::npos);
  EXPECT_NE(refused("project:nope", project_claims("nope")).find("no keyring named"), std::string::npos);
  EXPECT_NE(refused("project:demo", "{not json").find("one JSON object"), std::string::npos);
  // Bad refs for new keyrings.
  EXPECT_THROW(conn.call(Op::ensure_keyring, {"../admin"}), keyd::KeydError);
  EXPECT_THROW(conn.call(Op::ensure_keyring, {""}), keyd::KeydError);
  // Wrong field counts and types are bad requests; the connection survives.
  EXPECT_THROW(conn.call(Op::sign_jwt, {"project:demo"}), keyd::KeydError);
  EXPECT_THROW(conn.call(Op::mac, {"password", "x", "bad"}), keyd::KeydError);
  EXPECT_EQ(conn.call(Op::status, {}).status, Status::ok);
}

// Token isolation at the signature: each keyring kind signs only its own
// issuer, audiences and roles, so authd cannot mint an admin token with a
// project's claims, nor a project token that a database treats as privileged.
TEST(KeydSigning, EachKeyringKindSignsOnlyItsOwnIssuerAudienceAndRoles) {
  Appliance a(false);
  auto keyd = a.start_keyd();
  keyd::KeydConnection conn = connect_when_ready(a);
  conn.call(Op::ensure_keyring, {"demo"});
  const std::string project_issuer = "https://localhost/projects/demo/auth/v1";
  const std::string admin_issuer = "https://localhost/admin";
  const auto claims = [](const std::string& iss, const std::string& aud, const std::string& role) {
    const std::int64_t now = unix_now();
    return R"({"iss":")" + iss + R"(","sub":"a1","aud":")" + aud + R"(","role":")" + role + R"(","iat":)" +
           std::to_string(now) + R"(,"exp":)" + std::to_string(now + 60) + "}";
  };
  const auto refusal = [&](const std::string& keyring, const std::string& c) -> std::string {
    try {
      conn.call(Op::sign_jwt, {keyring, c});
    } catch (const keyd::KeydError& e) {
      EXPECT_EQ(e.status(), Status::bad_request);
      return e.what();
    }
    return "signed";
  };
  const auto refused_for = [&](const std::string& keyring, const std::string& c, const std::string& why) {
    const std::string answer = refusal(keyring, c);
    EXPECT_NE(answer.find(why), std::string::npos) << keyring << " " << c << ": " << answer;
  };

  // The admin keyring: admin issuer, admin audience, admin role, or nothing.
  EXPECT_NO_THROW(conn.call(Op::sign_jwt, {"admin", claims(admin_issuer, "orbitnest-admin", "admin")}));
  refused_for("admin", claims(project_issuer, "orbitnest-admin", "admin"), "iss is not this keyring's issuer");
  refused_for("admin", claims(admin_issuer, "authenticated", "admin"), "aud is not allowed");
  refused_for("admin", claims(project_issuer, "authenticated", "authenticated"), "iss is not");
  for (const char* role : {"authenticated", "anon", "service_role", "supabase_admin"}) {
    refused_for("admin", claims(admin_issuer, "orbitnest-admin", role), "role is not allowed");
  }

  // A project keyring: never an admin or database role, never the admin issuer or audience.
  EXPECT_NO_THROW(conn.call(Op::sign_jwt, {"project:demo", claims(project_issuer, "authenticated", "anon")}));
  for (const char* role : {"admin", "service_role", "supabase_admin", "postgres"}) {
    refused_for("project:demo", claims(project_issuer, "authenticated", role), "role is not allowed");
  }
  refused_for("project:demo", claims(admin_issuer, "authenticated", "authenticated"), "iss is not");
  refused_for("project:demo", claims(project_issuer, "orbitnest-admin", "authenticated"), "aud is not allowed");
  EXPECT_EQ(conn.call(Op::status, {}).status, Status::ok);
}

TEST(KeydSigning, KeysAreGeneratedInsideTheTokenAndNeverExtractable) {
  Appliance a(false);
  {
    auto keyd = a.start_keyd();
    keyd::KeydConnection conn = connect_when_ready(a);
    conn.call(Op::ensure_keyring, {"demo"});
    keyd->stop();
  }
  // Open the token ourselves and look at every private and secret key.
  const auto [code, out] = run_command({"/usr/bin/pkcs11-tool", "--module", kSoftHsmModule, "--login", "--pin",
                                        a.token.pin(), "--list-objects", "--token-label", a.token.label()},
                                       {{"SOFTHSM2_CONF", a.token.conf_path()}});
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("orbitnest:jws:project:demo:v1"), std::string::npos) << out;
  EXPECT_NE(out.find("orbitnest:seal:v1"), std::string::npos) << out;
  EXPECT_NE(out.find("orbitnest:pepper:v1"), std::string::npos) << out;
  // pkcs11-tool prints "Access: sensitive, always sensitive, never extractable, local" per key.
  std::size_t keys = 0;
  for (std::size_t at = out.find("Private Key Object"); at != std::string::npos; at = out.find("Private Key Object", at + 1)) {
    ++keys;
    const std::size_t end = out.find("Object;", at + 18);  // the next object's header
    const std::string block = out.substr(at, end == std::string::npos ? std::string::npos : end - at);
    EXPECT_NE(block.find("never extractable"), std::string::npos) << block;
    EXPECT_NE(block.find("always sensitive"), std::string::npos) << block;
  }
  EXPECT_GE(keys, 5u);  // admin v1+v2, demo v1+v2, audit
}

}  // namespace
}  // namespace orbitnest::test
