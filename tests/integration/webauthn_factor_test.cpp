// GoTrue's `factor_type: "webauthn"` MFA factors (#12) and auth-js's
// passkey envelope ({challenge_id, options} / {challenge_id, credential}),
// through the real HTTPS endpoints with keyd, Postgres and libfido2; a
// SoftAuthenticator answers the ceremonies. Both sign-in modes (an aal1
// session raised by mfa.challenge/verify, and the challenge token), the
// admin realm, and what must not work: another relying party, a replayed
// or spent ceremony, another user's credential, the factor's credential
// used as a passkey, unenrolling from aal1.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <chrono>
#include <thread>

#include "tests/support/passkey_fixture.h"
#include "tests/support/webauthn_bytes.h"

namespace orbitnest::test {
namespace {

constexpr const char* kPassword = "a long enough password";

class WebAuthnFactors : public PasskeyFixture {
 protected:
  // POST /factors/{id}/challenge with the page's relying party.
  HttpResult challenge(const std::string& ref, const boost::json::object& session, const std::string& factor,
                       const std::string& rp = R"({"rpId": "localhost", "rpOrigins": ["https://app.example"]})") const {
    return call(ref, "POST", "/factors/" + factor + "/challenge", R"({"webauthn": )" + rp + "}", {bearer(session)});
  }
  static boost::json::object public_key_of(const HttpResult& r) {
    return json(r).at("webauthn").at("credential_options").at("publicKey").as_object();
  }
  static std::string verify_body(const std::string& challenge_id, const std::string& type,
                                 const boost::json::object& credential) {
    return boost::json::serialize(boost::json::object{
        {"challenge_id", challenge_id},
        {"webauthn", boost::json::object{{"type", type},
                                         {"rpId", "localhost"},
                                         {"rpOrigins", boost::json::array{kPasskeyOrigin}},
                                         {"credential_response", credential}}}});
  }
  // Enroll a webauthn factor with `device` from `session`; the raised session.
  std::pair<std::string, HttpResult> enroll(const std::string& ref, const boost::json::object& session,
                                            SoftAuthenticator& device) const {
    const HttpResult enrolled =
        call(ref, "POST", "/factors", R"({"factor_type": "webauthn", "friendly_name": "Desk key"})", {bearer(session)});
    EXPECT_EQ(enrolled.status, 200) << enrolled.body;
    const std::string factor = text(json(enrolled).at("id"));
    const HttpResult c = challenge(ref, session, factor);
    EXPECT_EQ(c.status, 200) << c.body;
    const std::string ceremony = text(public_key_of(c).at("challenge"));
    return {factor, call(ref, "POST", "/factors/" + factor + "/verify",
                         verify_body(text(json(c).at("id")), "create", device.registration(ceremony, kPasskeyOrigin)),
                         {bearer(session)})};
  }
  std::string passkey_rows(const std::string& where) const {
    return a.db->scalar("SELECT count(*) FROM auth.passkeys WHERE " + where);
  }
};

TEST_F(WebAuthnFactors, EnrollThenRaiseAnAal1SessionGoTruesWay) {
  start({{"alpha", {std::string("passkey=") + kRequiredUv, "mfa_sign_in=aal1_session"}}});
  const boost::json::object session = sign_up("alpha", "ada@example.com", kPassword);
  SoftAuthenticator key("localhost");
  key.flags = SoftAuthenticator::kUp;  // a security key without a PIN: fine for a second factor

  const HttpResult enrolled =
      call("alpha", "POST", "/factors", R"({"factor_type": "webauthn", "friendly_name": "Desk key"})", {bearer(session)});
  ASSERT_EQ(enrolled.status, 200) << enrolled.body;
  EXPECT_EQ(text(json(enrolled).at("type")), "webauthn");
  const std::string factor = text(json(enrolled).at("id"));

  // The client's relying party must be the project's.
  const HttpResult other_rp = challenge("alpha", session, factor, R"({"rpId": "evil.example"})");
  EXPECT_EQ(other_rp.status, 400);
  EXPECT_EQ(code_of(other_rp), "webauthn_rp_mismatch");
  EXPECT_EQ(code_of(challenge("alpha", session, factor, R"({"rpId": "localhost", "rpOrigins": ["https://evil.example"]})")),
            "webauthn_rp_mismatch");

  const HttpResult create = challenge("alpha", session, factor);
  ASSERT_EQ(create.status, 200) << create.body;
  EXPECT_EQ(text(json(create).at("type")), "webauthn");
  EXPECT_EQ(text(json(create).at("webauthn").at("type")), "create");
  const boost::json::object creation = public_key_of(create);
  EXPECT_EQ(text(creation.at("rp").at("id")), "localhost");
  EXPECT_EQ(text(creation.at("authenticatorSelection").at("userVerification")), "preferred");
  EXPECT_EQ(unb64(text(creation.at("user").at("id"))), handle_of(session));
  // The wrong ceremony type is a clear 400, and spends the challenge.
  const std::string create_id = text(json(create).at("id"));
  const HttpResult wrong_type = call("alpha", "POST", "/factors/" + factor + "/verify",
                                     verify_body(create_id, "request", key.registration(text(creation.at("challenge")), kPasskeyOrigin)),
                                     {bearer(session)});
  EXPECT_EQ(wrong_type.status, 400) << wrong_type.body;
  const HttpResult spent = call("alpha", "POST", "/factors/" + factor + "/verify",
                                verify_body(create_id, "create", key.registration(text(creation.at("challenge")), kPasskeyOrigin)),
                                {bearer(session)});
  EXPECT_EQ(code_of(spent), "mfa_factor_not_found") << spent.body;
  EXPECT_EQ(passkey_rows("factor_id = '" + factor + "'"), "0");

  const HttpResult c2 = challenge("alpha", session, factor);
  const HttpResult verified = call(
      "alpha", "POST", "/factors/" + factor + "/verify",
      verify_body(text(json(c2).at("id")), "create", key.registration(text(public_key_of(c2).at("challenge")), kPasskeyOrigin)),
      {bearer(session)});
  ASSERT_EQ(verified.status, 200) << verified.body;
  EXPECT_EQ(aal_of(verified), "aal2");
  EXPECT_TRUE(amr_has(claims_of(text(json(verified).at("access_token"))), "mfa/webauthn"));
  EXPECT_EQ(json(verified).at("recovery_codes").as_array().size(), 10u);
  const boost::json::object user = json(call("alpha", "GET", "/user", "", {bearer(json(verified))}));
  ASSERT_EQ(user.at("factors").as_array().size(), 1u);
  EXPECT_EQ(text(user.at("factors").as_array()[0].at("factor_type")), "webauthn");
  EXPECT_EQ(text(user.at("factors").as_array()[0].at("status")), "verified");

  // A second factor, not a passkey: not listed, and signs nobody in alone.
  EXPECT_EQ(json(call("alpha", "GET", "/passkeys", "", {bearer(json(verified))})).at("array").as_array().size(), 0u);
  key.flags = SoftAuthenticator::kUp | SoftAuthenticator::kUv;
  EXPECT_EQ(code_of(sign_in_with("alpha", key.assertion(sign_in_challenge("alpha"), kPasskeyOrigin, handle_of(session)))),
            "webauthn_credential_not_found");
  key.flags = SoftAuthenticator::kUp;

  // Next sign-in: aal1, then the factor's request ceremony raises it.
  const HttpResult again = password_sign_in("alpha", "ada@example.com", kPassword);
  ASSERT_EQ(aal_of(again), "aal1");
  const HttpResult request = challenge("alpha", json(again), factor);
  ASSERT_EQ(request.status, 200) << request.body;
  EXPECT_EQ(text(json(request).at("webauthn").at("type")), "request");
  const boost::json::object req = public_key_of(request);
  ASSERT_EQ(req.at("allowCredentials").as_array().size(), 1u);
  EXPECT_EQ(text(req.at("allowCredentials").as_array()[0].at("id")), key.credential_id_b64());
  const std::string body =
      verify_body(text(json(request).at("id")), "request", key.assertion(text(req.at("challenge")), kPasskeyOrigin, std::nullopt));
  const HttpResult raised = call("alpha", "POST", "/factors/" + factor + "/verify", body, {bearer(json(again))});
  ASSERT_EQ(raised.status, 200) << raised.body;
  EXPECT_EQ(aal_of(raised), "aal2");
  EXPECT_FALSE(json(raised).contains("recovery_codes"));
  // Replayed: the challenge is spent.
  EXPECT_EQ(code_of(call("alpha", "POST", "/factors/" + factor + "/verify", body, {bearer(json(again))})),
            "mfa_factor_not_found");
  // Another origin: refused, and the challenge is spent by the attempt.
  const HttpResult r2 = challenge("alpha", json(again), factor);
  const std::string c2_challenge = text(public_key_of(r2).at("challenge"));
  EXPECT_EQ(code_of(call("alpha", "POST", "/factors/" + factor + "/verify",
                         verify_body(text(json(r2).at("id")), "request",
                                     key.assertion(c2_challenge, "https://evil.example", std::nullopt)),
                         {bearer(json(again))})),
            "webauthn_origin_mismatch");
  EXPECT_EQ(code_of(call("alpha", "POST", "/factors/" + factor + "/verify",
                         verify_body(text(json(r2).at("id")), "request", key.assertion(c2_challenge, kPasskeyOrigin, std::nullopt)),
                         {bearer(json(again))})),
            "mfa_factor_not_found");
  // Another user's authenticator answering this factor's ceremony.
  SoftAuthenticator stranger("localhost");
  const HttpResult r3 = challenge("alpha", json(again), factor);
  EXPECT_EQ(code_of(call("alpha", "POST", "/factors/" + factor + "/verify",
                         verify_body(text(json(r3).at("id")), "request",
                                     stranger.assertion(text(public_key_of(r3).at("challenge")), kPasskeyOrigin, std::nullopt)),
                         {bearer(json(again))})),
            "webauthn_credential_not_found");

  // Unenrolling needs aal2; then the credential and the raise are gone.
  const HttpResult low = password_sign_in("alpha", "ada@example.com", kPassword);
  EXPECT_EQ(code_of(call("alpha", "DELETE", "/factors/" + factor, "", {bearer(json(low))})), "insufficient_aal");
  EXPECT_EQ(passkey_rows("factor_id = '" + factor + "'"), "1");
  const std::string raised_session = text(claims_of(text(json(raised).at("access_token"))).at("session_id"));
  ASSERT_EQ(call("alpha", "DELETE", "/factors/" + factor, "", {bearer(json(raised))}).status, 200);
  EXPECT_EQ(passkey_rows("factor_id = '" + factor + "'"), "0");
  EXPECT_EQ(passkey_rows("user_id = '" + user_id(session) + "'"), "0");
  EXPECT_EQ(a.db->scalar("SELECT aal FROM auth.sessions WHERE id = '" + raised_session + "'"), "aal1");
}

TEST_F(WebAuthnFactors, TheChallengeTokenCarriesTheCeremony) {
  start({{"alpha", {std::string("passkey=") + kRequiredUv}}, {"beta", {std::string("passkey=") + kRequiredUv}}});
  const boost::json::object session = sign_up("alpha", "bo@example.com", kPassword);
  SoftAuthenticator key("localhost");
  const auto [factor, verified] = enroll("alpha", session, key);
  ASSERT_EQ(verified.status, 200) << verified.body;

  // The first factor answers a challenge token with the request options.
  const auto first_factor = [&] {
    const HttpResult r = password_sign_in("alpha", "bo@example.com", kPassword);
    EXPECT_TRUE(json(r).contains("mfa_required")) << r.body;
    return json(r);
  };
  const boost::json::object pending = first_factor();
  const boost::json::object options = pending.at("webauthn").at("credential_options").at("publicKey").as_object();
  ASSERT_EQ(options.at("allowCredentials").as_array().size(), 1u);
  EXPECT_EQ(text(options.at("allowCredentials").as_array()[0].at("id")), key.credential_id_b64());
  const auto verify = [&](const boost::json::object& p, const boost::json::object& credential, const std::string& ref = "alpha") {
    return call(ref, "POST", "/mfa/verify",
                boost::json::serialize(boost::json::object{
                    {"challenge_token", p.at("challenge_token")},
                    {"factor_id", factor},
                    {"webauthn", boost::json::object{{"type", "request"}, {"credential_response", credential}}}}));
  };
  // An assertion over another challenge: refused, counted, the token lives.
  const HttpResult other = verify(pending, key.assertion(sign_in_challenge("alpha"), kPasskeyOrigin, std::nullopt));
  EXPECT_EQ(code_of(other), "webauthn_challenge_mismatch") << other.body;
  // The right one: an aal2 session, amr mfa/webauthn; the token is spent.
  const boost::json::object right = key.assertion(text(options.at("challenge")), kPasskeyOrigin, std::nullopt);
  const HttpResult in = verify(pending, right);
  ASSERT_EQ(in.status, 200) << in.body;
  EXPECT_EQ(aal_of(in), "aal2");
  const boost::json::object claims = claims_of(text(json(in).at("access_token")));
  EXPECT_TRUE(amr_has(claims, "mfa/webauthn"));
  EXPECT_TRUE(amr_has(claims, "password"));
  EXPECT_EQ(code_of(verify(pending, right)), "mfa_challenge_expired");

  // Another user's credential, and a token of another project.
  const boost::json::object p2 = first_factor();
  SoftAuthenticator stranger("localhost");
  EXPECT_EQ(code_of(verify(p2, stranger.assertion(
                                   text(p2.at("webauthn").at("credential_options").at("publicKey").at("challenge")),
                                   kPasskeyOrigin, std::nullopt))),
            "webauthn_credential_not_found");
  EXPECT_EQ(verify(p2, right, "beta").status, 422);
  // Five failures end the token.
  for (int i = 0; i < 4; ++i) {
    verify(p2, stranger.assertion("AAAA", kPasskeyOrigin, std::nullopt));
  }
  EXPECT_EQ(code_of(verify(p2, key.assertion(text(p2.at("webauthn").at("credential_options").at("publicKey").at("challenge")),
                                             kPasskeyOrigin, std::nullopt))),
            "mfa_challenge_expired");

  // Passkeys turned off: no new webauthn factor, but the one there is
  // still offered (turning them off locks nobody out).
  const auto set = run_command({ORBITNEST_AUTHD_BIN, "--config", config, "project", "settings", "alpha",
                                R"(passkey={"rp_id": "localhost", "origins": ["https://app.example"], "enabled": false})"});
  ASSERT_EQ(set.first, 0) << set.second;
  for (int i = 0; i < 100; ++i) {  // settings are cached for a few seconds
    if (code_of(call("alpha", "POST", "/passkeys/registration/options", "{}", {bearer(json(in))})) == "webauthn_disabled") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const HttpResult refused = call("alpha", "POST", "/factors", R"({"factor_type": "webauthn"})", {bearer(json(in))});
  EXPECT_EQ(code_of(refused), "mfa_webauthn_enroll_not_enabled") << refused.body;
  const boost::json::object p3 = first_factor();
  ASSERT_TRUE(p3.contains("webauthn")) << boost::json::serialize(p3);
  EXPECT_EQ(verify(p3, key.assertion(text(p3.at("webauthn").at("credential_options").at("publicKey").at("challenge")),
                                     kPasskeyOrigin, std::nullopt))
                .status,
            200);
}

TEST_F(WebAuthnFactors, AnAdminRaisesTheirSessionWithASecurityKey) {
  start({{"alpha", {std::string("passkey=") + kRequiredUv}}});
  create_admin("root@example.com");
  const std::string password = R"({"email": "root@example.com", "password": ")" + std::string(kPasskeyAdminPassword) + "\"}";
  const HttpResult pw = admin("POST", "/token?grant_type=password", password);
  ASSERT_EQ(aal_of(pw), "aal1") << pw.body;
  const std::string aal2_route = "/projects/alpha/users/" + std::string("00000000-0000-4000-8000-000000000000") + "/passkeys";
  EXPECT_EQ(admin("GET", aal2_route, "", {bearer(json(pw))}).status, 403);
  const HttpResult enrolled = admin("POST", "/factors", R"({"factor_type": "webauthn"})", {bearer(json(pw))});
  ASSERT_EQ(enrolled.status, 200) << enrolled.body;
  const std::string factor = text(json(enrolled).at("id"));
  // The admins' relying party, not a project's.
  EXPECT_EQ(code_of(admin("POST", "/factors/" + factor + "/challenge",
                          R"({"webauthn": {"rpId": "localhost", "rpOrigins": ["https://app.example"]}})", {bearer(json(pw))})),
            "webauthn_rp_mismatch");
  const HttpResult c = admin("POST", "/factors/" + factor + "/challenge", "{}", {bearer(json(pw))});
  ASSERT_EQ(c.status, 200) << c.body;
  SoftAuthenticator key("localhost");
  const auto admin_verify = [&](const HttpResult& ch, const std::string& type, const boost::json::object& answer,
                                const HttpResult& session) {
    return admin("POST", "/factors/" + factor + "/verify",
                 boost::json::serialize(boost::json::object{
                     {"challenge_id", json(ch).at("id")},
                     {"webauthn", boost::json::object{{"type", type}, {"credential_response", answer}}}}),
                 {bearer(json(session))});
  };
  const HttpResult raised =
      admin_verify(c, "create", key.registration(text(public_key_of(c).at("challenge")), admin_origin()), pw);
  ASSERT_EQ(raised.status, 200) << raised.body;
  EXPECT_EQ(aal_of(raised), "aal2");
  EXPECT_EQ(admin("GET", aal2_route, "", {bearer(json(raised))}).status, 200);  // past the aal2 gate
  // The admin's password alone now meets the challenge token and its ceremony.
  const HttpResult next = admin("POST", "/token?grant_type=password", password);
  ASSERT_TRUE(json(next).contains("challenge_token")) << next.body;
  const std::string ceremony =
      text(json(next).at("webauthn").at("credential_options").at("publicKey").at("challenge"));
  const HttpResult in = admin(
      "POST", "/mfa/verify",
      boost::json::serialize(boost::json::object{
          {"challenge_token", json(next).at("challenge_token")},
          {"webauthn", boost::json::object{{"type", "request"},
                                           {"credential_response", key.assertion(ceremony, admin_origin(), std::nullopt)}}}}));
  ASSERT_EQ(in.status, 200) << in.body;
  EXPECT_EQ(aal_of(in), "aal2");
  EXPECT_TRUE(amr_has(claims_of(text(json(in).at("access_token"))), "mfa/webauthn"));
  // The admin's credential is in the admins' table, not a project's.
  EXPECT_EQ(passkey_rows("factor_id = '" + factor + "'"), "0");
  EXPECT_EQ(a.db->scalar("SELECT count(*) FROM auth.admin_passkeys WHERE factor_id = '" + factor + "'"), "1");
}

}  // namespace
}  // namespace orbitnest::test
