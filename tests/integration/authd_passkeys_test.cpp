// Passkeys (issue #12) through the real HTTPS endpoints, with real keyd,
// Postgres and libfido2: every real vector in tests/data/webauthn-vectors
// gets its verdict (the ceremony's challenge and the stored credential put
// in place as authd would have), and a software authenticator plays the
// attacker: replayed and expired challenges, another origin or rp id,
// tampered authenticator data, another credential's signature, a revoked
// credential, a credential of another project or of the admins.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/webauthn_bytes.h"
#include "keyd/keyring/base64url.h"
#include "tests/support/passkey_fixture.h"

namespace orbitnest::test {
namespace {

constexpr const char* kOrigin = kPasskeyOrigin;
constexpr const char* kAdminPassword = kPasskeyAdminPassword;

class AuthdPasskeys : public PasskeyFixture {};

constexpr const char* kAppPasskey = R"({"rp_id": "localhost", "origins": ["https://app.example"]})";

// ---- the real vectors, through the endpoints --------------------------

struct Vector {
  std::string file;
  std::string ref;
  boost::json::object data;
};

std::vector<Vector> load_vectors() {
  std::vector<Vector> out;
  const std::filesystem::path dir = std::filesystem::path(ORBITNEST_SOURCE_DIR) / "tests/data/webauthn-vectors";
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path());
    std::stringstream s;
    s << in.rdbuf();
    Vector v{entry.path().filename().string(), "", boost::json::parse(s.str()).as_object()};
    std::string id = entry.path().filename().string().substr(0, 3);
    for (char& c : id) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    v.ref = "vec" + id;
    out.push_back(std::move(v));
  }
  std::sort(out.begin(), out.end(), [](const Vector& x, const Vector& y) { return x.file < y.file; });
  return out;
}

std::string settings_for(const boost::json::object& expected) {
  boost::json::array origins;
  if (expected.at("origin").is_string()) {
    origins.push_back(expected.at("origin"));
  } else {
    origins = expected.at("origin").as_array();
  }
  return boost::json::serialize(boost::json::object{
      {"rp_id", expected.at("rpId")},
      {"origins", origins},
      {"user_verification", expected.at("requireUserVerification").as_bool() ? "required" : "preferred"},
      {"resident_key", "preferred"}});
}

TEST_F(AuthdPasskeys, EveryVectorGetsItsVerdictThroughTheEndpoints) {
  const std::vector<Vector> vectors = load_vectors();
  ASSERT_EQ(vectors.size(), 26u);
  ProjectSettings settings;
  for (const Vector& v : vectors) {
    settings.push_back({v.ref, {"passkey=" + settings_for(v.data.at("expected").as_object())}});
  }
  start(settings);
  for (const Vector& v : vectors) {
    SCOPED_TRACE(v.file);
    const boost::json::object& expected = v.data.at("expected").as_object();
    const boost::json::object& credential = v.data.at("credential").as_object();
    const bool accept = v.data.at("expectedResult").at("result").as_string() == "accept";
    const boost::json::object session = user_session(v.ref, "owner@" + v.ref + ".example");
    const std::string user = user_id(session);
    const std::string challenge = text(expected.at("challenge"));
    if (v.data.at("ceremony").as_string() == "registration") {
      // The ceremony authd would have issued to this user.
      a.db->exec("INSERT INTO auth.webauthn_challenges (challenge, realm_ref, kind, user_id, expires_at) VALUES ('" +
                 challenge + "', 'project:" + v.ref + "', 'registration', '" + user + "', now() + interval '5 min')");
      const HttpResult r =
          call(v.ref, "POST", "/passkeys/registration/verify", boost::json::serialize(credential), {bearer(session)});
      if (accept) {
        EXPECT_EQ(r.status, 200) << r.body;
        EXPECT_EQ(text(json(r).at("credential_id")),
                  b64(unb64(text(v.data.at("expectedResult").at("credentialId")))));
        EXPECT_EQ(passkeys_of(user), "1");
      } else {
        EXPECT_EQ(r.status, 400) << r.body;
        EXPECT_TRUE(code_of(r).rfind("webauthn_", 0) == 0) << r.body;
        EXPECT_EQ(passkeys_of(user), "0");
      }
      continue;
    }
    // An assertion: the stored credential as registration left it, and
    // the sign-in ceremony that named this user.
    const boost::json::object& stored = v.data.at("storedCredential").as_object();
    const std::string auth_data = unb64(text(credential.at("response").at("authenticatorData")));
    const bool backup_eligible = (static_cast<unsigned char>(auth_data[32]) & 0x08) != 0;
    const boost::json::value* handle = credential.at("response").as_object().if_contains("userHandle");
    const std::string user_handle = handle != nullptr && handle->is_string() ? hex(unb64(text(*handle)))
                                                                             : "";
    // Two vectors share a credential (A04, X03): one row at a time.
    a.db->exec("DELETE FROM auth.passkeys WHERE credential_id = decode('" + hex(unb64(text(stored.at("credentialId")))) +
               "', 'hex')");
    a.db->exec("INSERT INTO auth.passkeys (id, user_id, credential_id, public_key_cose, sign_count, user_handle, "
               "backup_eligible) VALUES (gen_random_uuid(), '" + user + "', decode('" +
               hex(unb64(text(stored.at("credentialId")))) + "', 'hex'), decode('" +
               hex(unb64(text(stored.at("publicKeyCOSE")))) + "', 'hex'), " +
               std::to_string(stored.at("signCount").to_number<std::int64_t>()) + ", " +
               (user_handle.empty() ? "decode(replace('" + user + "', '-', ''), 'hex')" : "decode('" + user_handle + "', 'hex')") +
               ", " + (backup_eligible ? "true" : "false") + ")");
    a.db->exec("INSERT INTO auth.webauthn_challenges (challenge, realm_ref, kind, user_id, expires_at) VALUES ('" +
               challenge + "', 'project:" + v.ref + "', 'authentication', '" + user + "', now() + interval '5 min')");
    const HttpResult r = sign_in_with(v.ref, credential);
    const std::string count = a.db->scalar("SELECT sign_count FROM auth.passkeys WHERE user_id = '" + user + "'");
    if (accept) {
      ASSERT_EQ(r.status, 200) << r.body;
      const boost::json::object claims = claims_of(text(json(r).at("access_token")));
      EXPECT_EQ(text(claims.at("sub")), user);
      EXPECT_TRUE(amr_has(claims, "webauthn"));
      const bool uv = (static_cast<unsigned char>(auth_data[32]) & 0x04) != 0;
      EXPECT_EQ(text(claims.at("aal")), uv ? "aal2" : "aal1");
      EXPECT_EQ(count, std::to_string(v.data.at("expectedResult").at("newSignCount").to_number<std::int64_t>()));
    } else {
      EXPECT_EQ(r.status, 400) << r.body;
      EXPECT_TRUE(code_of(r).rfind("webauthn_", 0) == 0) << r.body;
      EXPECT_EQ(count, std::to_string(stored.at("signCount").to_number<std::int64_t>()));  // nothing changed
      EXPECT_EQ(a.db->scalar("SELECT count(*) FROM auth.sessions WHERE user_id = '" + user + "'"), "1");
    }
  }
}

// ---- a software authenticator, honest and not -------------------------

class AuthdPasskeyAttacks : public AuthdPasskeys {
 protected:
  void SetUp() override {
    start({{"alpha", {std::string("passkey=") + kAppPasskey}}, {"beta", {std::string("passkey=") + kAppPasskey}}});
  }
};

TEST_F(AuthdPasskeyAttacks, RegisterThenSignInToAal2) {
  const boost::json::object session = user_session("alpha", "ada@example.com");
  const HttpResult options = call("alpha", "POST", "/passkeys/registration/options", "{}", {bearer(session)});
  ASSERT_EQ(options.status, 200) << options.body;
  const boost::json::object o = options_of(options);
  EXPECT_EQ(text(o.at("rp").at("id")), "localhost");
  EXPECT_EQ(text(o.at("user").at("name")), "ada@example.com");
  EXPECT_EQ(text(o.at("authenticatorSelection").at("userVerification")), "required");
  SoftAuthenticator device("localhost");
  const HttpResult reg = call("alpha", "POST", "/passkeys/registration/verify",
                              boost::json::serialize(device.registration(text(o.at("challenge")), kOrigin)),
                              {bearer(session)});
  ASSERT_EQ(reg.status, 200) << reg.body;
  EXPECT_EQ(text(json(reg).at("credential_id")), device.credential_id_b64());
  EXPECT_EQ(unb64(text(o.at("user").at("id"))), handle_of(session));
  // A second passkey needs aal2 now (a stolen first factor must not add one).
  const HttpResult weak = call("alpha", "POST", "/passkeys/registration/options", "{}", {bearer(session)});
  EXPECT_EQ(weak.status, 403);
  EXPECT_EQ(code_of(weak), "insufficient_aal");
  // Discoverable sign-in (no user named): the user handle names the user.
  const std::string challenge = sign_in_challenge("alpha");
  const HttpResult in = sign_in_with("alpha", device.assertion(challenge, kOrigin, unb64(text(o.at("user").at("id")))));
  ASSERT_EQ(in.status, 200) << in.body;
  // The same device again (from the aal2 session): listed in excludeCredentials, refused if it registers anyway.
  const HttpResult again = call("alpha", "POST", "/passkeys/registration/options", "{}", {bearer(json(in))});
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(text(options_of(again).at("excludeCredentials").as_array()[0].at("id")), device.credential_id_b64());
  const HttpResult dup = call("alpha", "POST", "/passkeys/registration/verify",
                              boost::json::serialize(device.registration(text(options_of(again).at("challenge")), kOrigin)),
                              {bearer(json(in))});
  EXPECT_EQ(dup.status, 422);
  EXPECT_EQ(code_of(dup), "webauthn_credential_exists");
  const boost::json::object claims = claims_of(text(json(in).at("access_token")));
  EXPECT_EQ(text(claims.at("aal")), "aal2");
  EXPECT_TRUE(amr_has(claims, "webauthn"));
  EXPECT_EQ(call("alpha", "GET", "/user", "", {bearer(json(in))}).status, 200);
  // By email: the ceremony is bound to the user server-side; the answer
  // lists nothing (discoverable passkeys), as for an unknown address.
  const HttpResult named = call("alpha", "POST", "/passkeys/authentication/options", R"({"email": "ADA@example.com"})");
  EXPECT_TRUE(options_of(named).at("allowCredentials").as_array().empty()) << named.body;
  const HttpResult by_email = sign_in_with(
      "alpha", device.assertion(text(options_of(named).at("challenge")), kOrigin, unb64(text(o.at("user").at("id")))));
  EXPECT_EQ(by_email.status, 200) << by_email.body;
  const HttpResult list = call("alpha", "GET", "/passkeys", "", {bearer(session)});
  ASSERT_EQ(list.status, 200);
  EXPECT_NE(list.body.find("\"last_used_at\":\"20"), std::string::npos) << list.body;
}

TEST_F(AuthdPasskeyAttacks, ReplayedExpiredAndForeignCeremoniesAreRefused) {
  const boost::json::object session = user_session("alpha", "bob@example.com");
  const std::string user = user_id(session);
  SoftAuthenticator device("localhost");
  ASSERT_EQ(register_with("alpha", session, device).status, 200);
  const std::string user_handle = handle_of(session);  // discoverable sign-ins send it

  // Replay: the same assertion twice; the second finds no ceremony.
  const boost::json::object assertion = device.assertion(sign_in_challenge("alpha"), kOrigin, user_handle);
  EXPECT_EQ(sign_in_with("alpha", assertion).status, 200);
  const HttpResult replay = sign_in_with("alpha", assertion);
  EXPECT_EQ(replay.status, 400);
  EXPECT_EQ(code_of(replay), "webauthn_challenge_not_found");

  // Expired (5 minutes): refused, and spent.
  const std::string old = sign_in_challenge("alpha");
  a.db->exec("UPDATE auth.webauthn_challenges SET expires_at = now() - interval '1 s' WHERE challenge = '" + old + "'");
  EXPECT_EQ(code_of(sign_in_with("alpha", device.assertion(old, kOrigin, user_handle))), "webauthn_challenge_expired");

  // Another origin: refused; the challenge is spent by the attempt.
  const std::string c1 = sign_in_challenge("alpha");
  EXPECT_EQ(code_of(sign_in_with("alpha", device.assertion(c1, "https://evil.example", user_handle))),
            "webauthn_origin_mismatch");
  EXPECT_EQ(code_of(sign_in_with("alpha", device.assertion(c1, kOrigin, user_handle))), "webauthn_challenge_not_found");

  // Another rp id (the authenticator's scope for evil.example).
  device.rp_id = "evil.example";
  EXPECT_EQ(code_of(sign_in_with("alpha", device.assertion(sign_in_challenge("alpha"), kOrigin, user_handle))),
            "webauthn_rp_id_mismatch");
  device.rp_id = "localhost";

  // Tampered authenticatorData: the counter changed after signing.
  boost::json::object tampered = device.assertion(sign_in_challenge("alpha"), kOrigin, user_handle);
  std::string ad = unb64(text(tampered.at("response").at("authenticatorData")));
  ad[36] = static_cast<char>(ad[36] + 7);
  tampered["response"].as_object()["authenticatorData"] = b64(ad);
  EXPECT_EQ(code_of(sign_in_with("alpha", tampered)), "webauthn_verification_failed");

  // Another credential's signature over this credential's id.
  SoftAuthenticator other("localhost");
  device.signer = &other;
  EXPECT_EQ(code_of(sign_in_with("alpha", device.assertion(sign_in_challenge("alpha"), kOrigin, user_handle))),
            "webauthn_verification_failed");
  device.signer = nullptr;

  // No user verification where the realm requires it.
  device.flags = SoftAuthenticator::kUp;
  EXPECT_EQ(code_of(sign_in_with("alpha", device.assertion(sign_in_challenge("alpha"), kOrigin, user_handle))),
            "webauthn_user_not_verified");
  device.flags = SoftAuthenticator::kUp | SoftAuthenticator::kUv;

  // A counter that goes back: a cloned authenticator.
  device.counter = 0;
  EXPECT_EQ(code_of(sign_in_with("alpha", device.assertion(sign_in_challenge("alpha"), kOrigin, user_handle))),
            "webauthn_sign_count_regressed");

  // A discoverable sign-in without the user handle, or with another user's.
  EXPECT_EQ(code_of(sign_in_with("alpha", device.assertion(sign_in_challenge("alpha"), kOrigin, std::nullopt))),
            "webauthn_credential_not_found");
  device.counter = 100;
  EXPECT_EQ(code_of(sign_in_with("alpha", device.assertion(sign_in_challenge("alpha"), kOrigin, std::string(16, 'x')))),
            "webauthn_credential_not_found");

  // Nothing of these changed the passkey or made a session: one from the
  // OTP sign-in, one from the one good passkey sign-in.
  EXPECT_EQ(a.db->scalar("SELECT count(*) FROM auth.sessions WHERE user_id = '" + user + "'"), "2");
  EXPECT_EQ(a.db->scalar("SELECT sign_count FROM auth.passkeys WHERE user_id = '" + user + "'"), "1");
}

TEST_F(AuthdPasskeyAttacks, ACredentialOfAnotherRealmIsNotFound) {
  const boost::json::object session = user_session("alpha", "carol@example.com");
  SoftAuthenticator device("localhost");
  ASSERT_EQ(register_with("alpha", session, device).status, 200);
  const std::string user_handle =
      handle_of(session);
  // Project beta (same rp id, same origin): alpha's credential is not beta's.
  const HttpResult other = sign_in_with("beta", device.assertion(sign_in_challenge("beta"), kOrigin, user_handle));
  EXPECT_EQ(other.status, 400);
  EXPECT_EQ(code_of(other), "webauthn_credential_not_found");
  // A ceremony of alpha cannot be spent on beta either.
  const HttpResult crossed = sign_in_with("beta", device.assertion(sign_in_challenge("alpha"), kOrigin, user_handle));
  EXPECT_EQ(code_of(crossed), "webauthn_challenge_not_found");
  // The admin API: neither alpha's credential nor its ceremonies.
  const HttpResult options = admin("POST", "/passkeys/authentication/options", "{}");
  ASSERT_EQ(options.status, 200) << options.body;
  const HttpResult at_admin = admin("POST", "/passkeys/authentication/verify",
                                    boost::json::serialize(device.assertion(text(options_of(options).at("challenge")),
                                                                            "https://localhost:" + std::to_string(a.admin_port),
                                                                            user_handle)));
  EXPECT_EQ(code_of(at_admin), "webauthn_credential_not_found");
  EXPECT_EQ(a.db->scalar("SELECT count(*) FROM auth.admin_sessions"), "0");
}

TEST_F(AuthdPasskeyAttacks, RevokingNeedsAal2AndEndsItsSessions) {
  const boost::json::object otp_session = user_session("alpha", "dan@example.com");
  const std::string user = user_id(otp_session);
  SoftAuthenticator device("localhost");
  const HttpResult reg = register_with("alpha", otp_session, device);
  ASSERT_EQ(reg.status, 200);
  const std::string passkey = text(json(reg).at("id"));
  const std::string handle =
      handle_of(otp_session);
  // An aal1 session (a mailed code) cannot revoke: a stolen one must not strip the owner's passkeys.
  const HttpResult weak = call("alpha", "DELETE", "/passkeys/" + passkey, "", {bearer(otp_session)});
  EXPECT_EQ(weak.status, 403);
  EXPECT_EQ(code_of(weak), "insufficient_aal");
  // Renaming is fine at aal1.
  const HttpResult renamed = call("alpha", "PATCH", "/passkeys/" + passkey, R"({"friendly_name": "Laptop"})",
                                  {bearer(otp_session)});
  EXPECT_EQ(renamed.status, 200) << renamed.body;
  EXPECT_EQ(text(json(renamed).at("friendly_name")), "Laptop");
  // A passkey sign-in (aal2), and a step-up of the OTP session by a fresh assertion.
  const HttpResult signed_in = sign_in_with("alpha", device.assertion(sign_in_challenge("alpha"), kOrigin, handle));
  ASSERT_EQ(signed_in.status, 200);
  const HttpResult raised =
      sign_in_with("alpha", device.assertion(sign_in_challenge("alpha"), kOrigin, handle), {bearer(otp_session)});
  ASSERT_EQ(raised.status, 200) << raised.body;
  EXPECT_EQ(text(claims_of(text(json(raised).at("access_token"))).at("aal")), "aal2");
  EXPECT_EQ(text(claims_of(text(json(raised).at("access_token"))).at("session_id")),
            text(claims_of(text(otp_session.at("access_token"))).at("session_id")));
  // Another user's Bearer with this passkey: refused.
  const boost::json::object eve = user_session("alpha", "eve@example.com");
  EXPECT_EQ(code_of(sign_in_with("alpha", device.assertion(sign_in_challenge("alpha"), kOrigin, handle), {bearer(eve)})),
            "webauthn_user_mismatch");
  // Revoke with the raised session: recorded; the passkey's own session ends; it signs in no more.
  EXPECT_EQ(call("alpha", "DELETE", "/passkeys/" + passkey, "", {"Authorization: Bearer " + text(json(raised).at("access_token"))}).status, 200);
  EXPECT_EQ(a.db->scalar("SELECT revoked_by FROM auth.passkey_revocations WHERE passkey_id = '" + passkey + "'"), "user");
  EXPECT_EQ(call("alpha", "GET", "/user", "", {bearer(json(signed_in))}).status, 403);
  // The session it raised goes on, lowered to aal1 (the passkey was its second factor).
  EXPECT_EQ(call("alpha", "GET", "/user", "", {"Authorization: Bearer " + text(json(raised).at("access_token"))}).status, 200);
  EXPECT_EQ(a.db->scalar("SELECT aal FROM auth.sessions WHERE id = '" +
                         text(claims_of(text(json(raised).at("access_token"))).at("session_id")) + "'"),
            "aal1");
  EXPECT_EQ(code_of(sign_in_with("alpha", device.assertion(sign_in_challenge("alpha"), kOrigin, handle))),
            "webauthn_credential_not_found");
  EXPECT_EQ(passkeys_of(user), "0");
}

TEST_F(AuthdPasskeyAttacks, AdminsUsePasskeysAndManageUsersPasskeys) {
  create_admin("root@example.com");
  const HttpResult pw = admin("POST", "/token?grant_type=password",
                              R"({"email": "root@example.com", "password": ")" + std::string(kAdminPassword) + "\"}");
  ASSERT_EQ(pw.status, 200) << pw.body;
  const std::string admin_origin = "https://localhost:" + std::to_string(a.admin_port);
  const HttpResult options = admin("POST", "/passkeys/registration/options", "{}", {bearer(json(pw))});
  ASSERT_EQ(options.status, 200) << options.body;
  SoftAuthenticator key("localhost");
  ASSERT_EQ(admin("POST", "/passkeys/registration/verify",
                  boost::json::serialize(key.registration(text(options_of(options).at("challenge")), admin_origin)),
                  {bearer(json(pw))})
                .status,
            200);
  const std::string handle = unb64(text(options_of(options).at("user").at("id")));
  // A project's origin is not the admins'.
  const HttpResult start = admin("POST", "/passkeys/authentication/options", "{}");
  EXPECT_EQ(code_of(admin("POST", "/passkeys/authentication/verify",
                          boost::json::serialize(key.assertion(text(options_of(start).at("challenge")), kOrigin, handle)))),
            "webauthn_origin_mismatch");
  const HttpResult start2 = admin("POST", "/passkeys/authentication/options", "{}");
  const HttpResult in = admin("POST", "/passkeys/authentication/verify",
                              boost::json::serialize(key.assertion(text(options_of(start2).at("challenge")), admin_origin, handle)));
  ASSERT_EQ(in.status, 200) << in.body;
  const boost::json::object claims = claims_of(text(json(in).at("access_token")));
  EXPECT_EQ(text(claims.at("aal")), "aal2");
  EXPECT_EQ(text(claims.at("aud")), "orbitnest-admin");
  // The admin's passkey does not sign in to a project.
  EXPECT_EQ(code_of(sign_in_with("alpha", key.assertion(sign_in_challenge("alpha"), kOrigin, handle))),
            "webauthn_credential_not_found");

  // A project user's passkeys, listed and revoked by the admin (aal2).
  const boost::json::object user = user_session("alpha", "fay@example.com");
  SoftAuthenticator phone("localhost");
  const HttpResult reg = register_with("alpha", user, phone);
  ASSERT_EQ(reg.status, 200);
  const std::string base = "/projects/alpha/users/" + user_id(user) + "/passkeys";
  EXPECT_EQ(admin("GET", base, "", {bearer(json(pw))}).status, 403);  // a password-only admin session is aal1
  const HttpResult list = admin("GET", base, "", {bearer(json(in))});
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_NE(list.body.find(phone.credential_id_b64()), std::string::npos);
  EXPECT_EQ(admin("GET", "/projects/beta/users/" + user_id(user) + "/passkeys", "", {bearer(json(in))}).body, "[]");
  const std::string id = text(json(reg).at("id"));
  EXPECT_EQ(admin("DELETE", base + "/" + id, "", {bearer(json(in))}).status, 200);
  EXPECT_EQ(a.db->scalar("SELECT revoked_by FROM auth.passkey_revocations WHERE passkey_id = '" + id + "'"),
            "admin:" + text(claims.at("sub")));
  EXPECT_EQ(passkeys_of(user_id(user)), "0");
}

// Where passkeys may be non-discoverable (resident_key not required), the
// options list the named user's credentials — and, for an address without
// any, one decoy id keyd derives from the address: the same each time, so
// the answer does not tell who has an account.
TEST_F(AuthdPasskeyAttacks, NamedSignInOptionsDoNotTellWhoHasPasskeys) {
  const boost::json::object session = user_session("beta", "hal@example.com");
  SoftAuthenticator device("localhost");
  ASSERT_EQ(register_with("beta", session, device).status, 200);
  const auto set = run_command({ORBITNEST_AUTHD_BIN, "--config", config, "project", "settings", "beta",
                                R"(passkey={"rp_id": "localhost", "origins": ["https://app.example"], "resident_key": "preferred"})"});
  ASSERT_EQ(set.first, 0) << set.second;
  const auto allowed = [&](const std::string& email) {
    return options_of(call("beta", "POST", "/passkeys/authentication/options", R"({"email": ")" + email + "\"}"))
        .at("allowCredentials")
        .as_array();
  };
  boost::json::array unknown;
  for (int i = 0; i < 100 && unknown.empty(); ++i) {  // settings are cached for a few seconds
    unknown = allowed("nobody@example.com");
    if (unknown.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(unknown.size(), 1u);
  EXPECT_EQ(allowed("nobody@example.com"), unknown);  // stable
  EXPECT_NE(allowed("other@example.com"), unknown);   // per address
  const boost::json::array known = allowed("hal@example.com");
  ASSERT_EQ(known.size(), 1u);
  EXPECT_EQ(text(known[0].at("id")), device.credential_id_b64());
  EXPECT_EQ(text(unknown[0].at("id")).size(), device.credential_id_b64().size());  // 32 bytes, as this one's
}

TEST_F(AuthdPasskeyAttacks, MobileAppFilesComeFromTheSettings) {
  const auto set = run_command({ORBITNEST_AUTHD_BIN, "--config", config, "project", "settings", "alpha",
                                R"(passkey={"rp_id": "localhost", "origins": ["https://app.example"], "android_apps": [{"package_name": "com.example.app", "sha256_cert_fingerprints": ["30:B2:F3:0E:F6:31:43:81:0A:4F:00:BA:53:A6:55:56:B1:50:B4:7F:06:71:5F:B5:77:8E:38:14:AF:47:BD:A2"]}], "apple_app_ids": ["TEAM123.com.example.app"]})"});
  ASSERT_EQ(set.first, 0) << set.second;
  // Settings are cached for a few seconds.
  HttpResult links;
  for (int i = 0; i < 100; ++i) {
    links = api(a, "GET", "/projects/alpha/.well-known/assetlinks.json");
    if (links.body.find("com.example.app") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(links.status, 200);
  EXPECT_NE(links.body.find("delegate_permission/common.get_login_creds"), std::string::npos) << links.body;
  EXPECT_NE(links.body.find("30:B2:F3"), std::string::npos);
  const HttpResult aasa = api(a, "GET", "/projects/alpha/.well-known/apple-app-site-association");
  EXPECT_EQ(aasa.body, R"({"webcredentials":{"apps":["TEAM123.com.example.app"]}})");
  // The app's signing certificate makes its origin acceptable.
  const boost::json::object session = user_session("alpha", "gus@example.com");
  SoftAuthenticator device("localhost");
  EXPECT_EQ(register_with("alpha", session, device,
                          "android:apk-key-hash:MLLzDvYxQ4EKTwC6U6ZVVrFQtH8GcV-1d444FK9HvaI").status,
            200);
  // A malformed setting is refused with a reason, the old one kept.
  const auto bad = run_command({ORBITNEST_AUTHD_BIN, "--config", config, "project", "settings", "alpha",
                                R"(passkey={"origins": ["https://app.example/path"]})"});
  EXPECT_NE(bad.first, 0);
  EXPECT_NE(bad.second.find("passkey.origins"), std::string::npos) << bad.second;
}

}  // namespace
}  // namespace orbitnest::test

namespace orbitnest::test {
namespace {

// Size and faults on the passkey routes themselves: a body of a megabyte
// is refused on its header (413) and spends no ceremony; keyd gone between
// the ceremony and the answer signs nobody in and changes nothing (503,
// the counter and the sessions as they were), and once keyd is back a
// fresh ceremony signs in.
TEST_F(AuthdPasskeyAttacks, AMegabyteBodyOrKeydGoneMidSignInChangeNothing) {
  const boost::json::object session = user_session("alpha", "fay@example.com");
  SoftAuthenticator device("localhost");
  ASSERT_EQ(register_with("alpha", session, device).status, 200);
  const std::string user = user_id(session);
  const std::string handle = handle_of(session);
  const auto sign_count = [&] { return a.db->scalar("SELECT sign_count FROM auth.passkeys WHERE user_id = '" + user + "'"); };
  const auto sessions = [&] { return a.db->scalar("SELECT count(*) FROM auth.sessions WHERE user_id = '" + user + "'"); };

  const std::string challenge = sign_in_challenge("alpha");
  const boost::json::object answer = device.assertion(challenge, kOrigin, handle);
  boost::json::object padded{{"challenge_id", challenge}, {"credential", answer}};
  padded["padding"] = std::string(1024 * 1024, 'x');
  const HttpResult big = sign_in_with("alpha", padded);
  EXPECT_EQ(big.status, 413) << big.body.substr(0, 200);
  EXPECT_EQ(a.db->scalar("SELECT count(*) FROM auth.webauthn_challenges WHERE challenge = '" + challenge + "'"), "1");
  ASSERT_EQ(sign_in_with("alpha", answer).status, 200);  // the ceremony was still open

  const std::string count_before = sign_count();
  const std::string sessions_before = sessions();
  const boost::json::object pending = device.assertion(sign_in_challenge("alpha"), kOrigin, handle);
  keyd->stop();
  const HttpResult down = sign_in_with("alpha", pending);
  EXPECT_EQ(down.status, 503) << down.body;
  EXPECT_EQ(sign_count(), count_before);
  EXPECT_EQ(sessions(), sessions_before);
  keyd = a.start_keyd();
  EXPECT_EQ(code_of(sign_in_with("alpha", pending)), "webauthn_challenge_not_found");  // spent by the attempt
  HttpResult up;
  for (int i = 0; i < 50; ++i) {
    up = sign_in_with("alpha", device.assertion(sign_in_challenge("alpha"), kOrigin, handle));
    if (up.status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(up.status, 200) << up.body;
}

}  // namespace
}  // namespace orbitnest::test
