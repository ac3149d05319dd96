// The admin user system (issue #11) through the real HTTPS API, with real
// keyd and Postgres: made on the box only, its own listener, sign-in,
// refresh rotation with replay revocation, sign-out, its own sessions — and
// token isolation walked over every route of both route tables: an admin
// token on every project route, a project token on every admin route, a
// token of project A on project B.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <botan/base32.h>
#include <botan/otp.h>

#include <chrono>
#include <cstdio>

#include <string>

#include "authd/admin/admin_routes.h"
#include "authd/flows/project_routes.h"
#include "keyd/keyring/base64url.h"
#include "tests/support/authd_session.h"

namespace orbitnest::test {
namespace {

constexpr const char* kAdminPassword = "correct horse battery staple";

boost::json::object json(const HttpResult& r) { return boost::json::parse(r.body).as_object(); }
std::string text(const boost::json::value& v) { return std::string(v.as_string()); }

boost::json::object claims_of(const std::string& jwt) {
  const std::size_t a = jwt.find('.');
  const std::size_t b = jwt.find('.', a + 1);
  return boost::json::parse(*keyd::base64url_decode(jwt.substr(a + 1, b - a - 1))).as_object();
}

// A route path with its placeholders filled in.
std::string concrete(std::string_view pattern, const std::string& ref) {
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '{') {
      const std::size_t close = pattern.find('}', i);
      const std::string_view name = pattern.substr(i + 1, close - i - 1);
      out += name == "ref" ? ref : name == "id" ? "00000000-0000-4000-8000-000000000000" : "f";
      i = close;
    } else if (pattern[i] == '*') {
      out += "x";
    } else {
      out += pattern[i];
    }
  }
  return out;
}

class AuthdAdmin : public ::testing::Test {
 protected:
  void SetUp() override {
    keyd = a.start_keyd();
    config = a.write_config("authd.yaml", a.authd_yaml());
    alpha = create_project("alpha", true, config);
    beta = create_project("beta", true, config);
    ASSERT_FALSE(alpha.publishable_key.empty());
    ASSERT_EQ(create_admin("Root@Example.com", kAdminPassword).first, 0);
    authd = a.start_authd({}, config);
    ASSERT_EQ(a.wait_for_status("/auth/v1/health", 200).status, 200) << read_file(authd->log_file());
  }

  std::pair<int, std::string> create_admin(const std::string& email, const std::string& password) const {
    return run_command({"/bin/sh", "-c", "printf '%s\\n' \"$PW\" | \"$1\" --config \"$2\" admin create \"$3\"", "sh",
                        ORBITNEST_AUTHD_BIN, config, email},
                       {{"PW", password}});
  }
  HttpResult admin(const std::string& method, const std::string& path, const std::string& body = "",
                   std::vector<std::string> headers = {}) const {
    headers.push_back("Content-Type: application/json");
    return https_request(method, "https://localhost:" + std::to_string(a.admin_port) + "/admin/v1" + path,
                         a.cert_file, body, headers);
  }
  HttpResult project(const TestProject& p, const std::string& method, const std::string& path,
                     const std::string& body = "", std::vector<std::string> headers = {}) const {
    headers.push_back("apikey: " + p.publishable_key);
    return api(a, method, "/projects/" + p.ref + path, body, headers);
  }
  boost::json::object admin_sign_in(const std::string& email = "root@example.com",
                                    const std::string& password = kAdminPassword) const {
    const HttpResult r = admin("POST", "/token?grant_type=password",
                               R"({"email": ")" + email + R"(", "password": ")" + password + "\"}");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? json(r) : boost::json::object{};
  }
  boost::json::object user_session(const TestProject& p, const std::string& email) const {
    EXPECT_EQ(project(p, "POST", "/auth/v1/otp", R"({"email": ")" + email + "\"}").status, 200);
    const HttpResult v =
        project(p, "POST", "/auth/v1/verify", R"({"type": "email", "email": ")" + email + R"(", "token": "1234"})");
    EXPECT_EQ(v.status, 200) << v.body;
    return json(v);
  }
  static std::string bearer(const boost::json::object& session) {
    return "Authorization: Bearer " + text(session.at("access_token"));
  }

  Appliance a;
  std::unique_ptr<ChildProcess> keyd;
  std::unique_ptr<ChildProcess> authd;
  std::string config;
  TestProject alpha;
  TestProject beta;
};

TEST_F(AuthdAdmin, AdminsAreMadeOnTheBoxNeverByAnOpenEndpoint) {
  EXPECT_EQ(a.db->scalar("SELECT string_agg(email, ',') FROM auth.admin_users"), "root@example.com");
  // The same address again, a weak password, a malformed address: refused, nothing stored.
  EXPECT_EQ(create_admin("root@example.com", "another long password").first, 1);
  const auto weak = create_admin("two@example.com", "short");
  EXPECT_EQ(weak.first, 1);
  EXPECT_NE(weak.second.find("at least 12 characters"), std::string::npos) << weak.second;
  EXPECT_EQ(create_admin("not an address", kAdminPassword).first, 1);
  EXPECT_EQ(a.db->scalar("SELECT count(*) FROM auth.admin_users"), "1");
  // No sign-up on the admin API; a project sign-up makes a project user only.
  EXPECT_EQ(admin("POST", "/signup", R"({"email": "x@example.com", "password": "long enough pw"})").status, 404);
  user_session(alpha, "x@example.com");
  EXPECT_EQ(a.db->scalar("SELECT count(*) FROM auth.admin_users"), "1");
  EXPECT_EQ(a.db->scalar("SELECT count(*) FROM auth.users WHERE email = 'x@example.com'"), "1");
  // The admin tables are out of every client role's reach.
  for (const std::string role : {"anon", "authenticated", "service_role"}) {
    EXPECT_THROW(a.db->exec("SET ROLE " + role + "; SELECT count(*) FROM auth.admin_users"), std::exception) << role;
    EXPECT_THROW(a.db->exec("SET ROLE " + role + "; SELECT count(*) FROM auth.admin_refresh_tokens"), std::exception)
        << role;
  }
}

TEST_F(AuthdAdmin, SignInRefreshReplayAndSignOut) {
  const boost::json::object first = admin_sign_in("  ROOT@example.COM ");
  ASSERT_FALSE(first.empty());
  const boost::json::object claims = claims_of(text(first.at("access_token")));
  EXPECT_EQ(text(claims.at("iss")), "https://localhost/admin");
  EXPECT_EQ(text(claims.at("aud")), "orbitnest-admin");
  EXPECT_EQ(text(claims.at("role")), "admin");
  EXPECT_FALSE(claims.contains("ref")) << "an admin token names no project";
  EXPECT_LE(claims.at("exp").as_int64() - claims.at("iat").as_int64(), 900);
  const HttpResult me = admin("GET", "/me", "", {bearer(first)});
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(text(json(me).at("email")), "root@example.com");

  // A wrong password: GoTrue's answer, nothing issued.
  const HttpResult wrong =
      admin("POST", "/token?grant_type=password", R"({"email": "root@example.com", "password": "not it at all"})");
  EXPECT_EQ(wrong.status, 400);
  EXPECT_EQ(text(json(wrong).at("error_code")), "invalid_credentials") << wrong.body;

  // Refresh rotates; the old token presented again (after the reuse window
  // would not matter: the child is used) revokes every admin session.
  const std::string old_refresh = text(first.at("refresh_token"));
  const HttpResult rotated =
      admin("POST", "/token?grant_type=refresh_token", R"({"refresh_token": ")" + old_refresh + "\"}");
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  const boost::json::object second = json(rotated);
  EXPECT_NE(text(second.at("refresh_token")), old_refresh);
  const boost::json::object other = admin_sign_in();  // a second session of the same admin
  ASSERT_EQ(admin("POST", "/token?grant_type=refresh_token",
                  R"({"refresh_token": ")" + text(second.at("refresh_token")) + "\"}")
                .status,
            200);
  const HttpResult replay =
      admin("POST", "/token?grant_type=refresh_token", R"({"refresh_token": ")" + old_refresh + "\"}");
  EXPECT_EQ(replay.status, 400);
  EXPECT_EQ(text(json(replay).at("error_code")), "refresh_token_already_used") << replay.body;
  EXPECT_EQ(a.db->scalar("SELECT count(*) FROM auth.admin_sessions"), "0");
  EXPECT_EQ(admin("GET", "/me", "", {bearer(other)}).status, 403) << "the other session went too";

  // Sign-out ends the session: its access token is refused at once.
  const boost::json::object third = admin_sign_in();
  ASSERT_EQ(admin("POST", "/logout", "", {bearer(third)}).status, 204);
  const HttpResult after = admin("GET", "/me", "", {bearer(third)});
  EXPECT_EQ(after.status, 403);
  EXPECT_EQ(text(json(after).at("error_code")), "session_not_found") << after.body;
  EXPECT_EQ(admin("POST", "/token?grant_type=refresh_token",
                  R"({"refresh_token": ")" + text(third.at("refresh_token")) + "\"}")
                .status,
            400);
  // The project API knows no admin sign-in; the admin API's PKCE grant
  // takes only a social sign-in's code (an email link's is nothing there).
  EXPECT_EQ(project(alpha, "POST", "/auth/v1/token?grant_type=password",
                    R"({"email": "root@example.com", "password": ")" + std::string(kAdminPassword) + "\"}")
                .status,
            400);
  const HttpResult pkce = admin("POST", "/token?grant_type=pkce", R"({"auth_code": "x", "code_verifier": "y"})");
  EXPECT_EQ(pkce.status, 404);
  EXPECT_NE(pkce.body.find("flow_state_not_found"), std::string::npos) << pkce.body;
}

TEST_F(AuthdAdmin, AnAdminSeesAndEndsOnlyTheirOwnSessions) {
  const boost::json::object one = admin_sign_in();
  const boost::json::object two = admin_sign_in();
  const HttpResult list = admin("GET", "/sessions", "", {bearer(one)});
  ASSERT_EQ(list.status, 200) << list.body;
  const boost::json::array sessions = json(list).at("sessions").as_array();
  ASSERT_EQ(sessions.size(), 2u);
  const std::string one_id = text(claims_of(text(one.at("access_token"))).at("session_id"));
  const std::string two_id = text(claims_of(text(two.at("access_token"))).at("session_id"));
  for (const boost::json::value& s : sessions) {
    EXPECT_EQ(s.at("current").as_bool(), text(s.at("id")) == one_id);
  }
  // A project user's session id is no admin session: 404, nothing removed.
  const boost::json::object user = user_session(alpha, "u@example.com");
  const std::string user_session_id = text(claims_of(text(user.at("access_token"))).at("session_id"));
  EXPECT_EQ(admin("DELETE", "/sessions/" + user_session_id, "", {bearer(one)}).status, 404);
  EXPECT_EQ(a.db->scalar("SELECT count(*) FROM auth.sessions"), "1");
  EXPECT_EQ(admin("DELETE", "/sessions/not-a-uuid", "", {bearer(one)}).status, 400);
  EXPECT_EQ(admin("DELETE", "/sessions/" + two_id, "", {bearer(one)}).status, 204);
  EXPECT_EQ(admin("GET", "/me", "", {bearer(two)}).status, 403);
  EXPECT_EQ(admin("GET", "/me", "", {bearer(one)}).status, 200);
}

TEST_F(AuthdAdmin, TheAdminApiAnswersItsOwnOriginOnlyAndOnItsOwnPort) {
  const HttpResult foreign = admin("GET", "/health", "", {"Origin: https://evil.example"});
  EXPECT_EQ(foreign.status, 403) << foreign.body;
  EXPECT_EQ(foreign.headers.count("access-control-allow-origin"), 0u);
  const HttpResult preflight = admin("OPTIONS", "/token", "",
                                     {"Origin: https://evil.example", "Access-Control-Request-Method: POST"});
  EXPECT_GE(preflight.status, 400);
  EXPECT_EQ(preflight.headers.count("access-control-allow-origin"), 0u);
  const HttpResult sign_in = admin("POST", "/token?grant_type=password",
                                   R"({"email": "root@example.com", "password": ")" + std::string(kAdminPassword) +
                                       "\"}",
                                   {"Origin: https://evil.example"});
  EXPECT_EQ(sign_in.status, 403);
  EXPECT_EQ(a.db->scalar("SELECT count(*) FROM auth.admin_sessions"), "0") << "refused before it acted";
  // Each surface on its own port only.
  EXPECT_EQ(api(a, "GET", "/admin/v1/health").status, 404);
  EXPECT_EQ(https_request("GET", "https://localhost:" + std::to_string(a.admin_port) + "/auth/v1/health",
                          a.cert_file)
                .status,
            404);
  EXPECT_EQ(admin("GET", "/health").status, 200);
}

// Wrong passwords lock an admin's address out per client network (20 an
// hour), the account from everywhere only at 100: a guesser on one network
// cannot lock the owner out from another, and an operator can lift it.
TEST_F(AuthdAdmin, WrongPasswordsLockOutTheGuessersNetworkNotTheOwner) {
  const auto sign_in_from = [&](const std::string& from, const std::string& password) {
    return https_request("POST",
                         "https://localhost:" + std::to_string(a.admin_port) + "/admin/v1/token?grant_type=password",
                         a.cert_file, R"({"email": "root@example.com", "password": ")" + password + "\"}",
                         {"Content-Type: application/json"}, from);
  };
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(sign_in_from("127.0.0.1", "wrong password " + std::to_string(i)).status, 400);
  }
  const HttpResult locked = sign_in_from("127.0.0.1", kAdminPassword);
  EXPECT_EQ(locked.status, 429) << locked.body;
  EXPECT_EQ(text(json(locked).at("error_code")), "over_request_rate_limit");
  EXPECT_EQ(sign_in_from("127.0.0.2", kAdminPassword).status, 200) << "the owner, elsewhere, still gets in";
  // The operator lifts it on the box.
  const auto [code, out] = run_command({ORBITNEST_AUTHD_BIN, "--config", config, "admin", "unlock", "root@example.com"});
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(sign_in_from("127.0.0.1", kAdminPassword).status, 200);
}

// Sign-ins and refreshes count against budgets of their own: a flood of
// junk sign-ins from the one address everyone shares (a proxy, loopback)
// cannot sign out the admins who are in.
TEST_F(AuthdAdmin, AFloodOfSignInsDoesNotStopRefreshes) {
  authd->stop();
  authd = a.start_authd({}, a.write_config("limited.yaml", a.authd_yaml() + "  ip_requests_per_hour: 3\n"));
  ASSERT_EQ(a.wait_for_status("/auth/v1/health", 200).status, 200);
  const boost::json::object in = admin_sign_in();
  ASSERT_FALSE(in.empty());
  HttpResult flood;
  for (int i = 0; i < 3; ++i) {
    flood = admin("POST", "/token?grant_type=password", R"({"email": "nobody@example.com", "password": "x"})");
  }
  EXPECT_EQ(flood.status, 429) << flood.body;
  const HttpResult refreshed =
      admin("POST", "/token?grant_type=refresh_token", R"({"refresh_token": ")" + text(in.at("refresh_token")) + "\"}");
  EXPECT_EQ(refreshed.status, 200) << refreshed.body;
}

// An operator manages admins on the box: a new password or a ban ends the
// admin's sessions at once; a deleted admin is gone with them.
TEST_F(AuthdAdmin, PasswdBanAndDeleteEndTheAdminsSessions) {
  const boost::json::object before = admin_sign_in();
  const auto cli = [&](const std::string& verb, const std::string& password = "") {
    return run_command({"/bin/sh", "-c", "printf '%s\\n' \"$PW\" | \"$1\" --config \"$2\" admin \"$3\" root@example.com",
                        "sh", ORBITNEST_AUTHD_BIN, config, verb},
                       {{"PW", password}});
  };
  EXPECT_EQ(cli("passwd", " padded password  ").first, 1) << "spaces at either end are refused";
  ASSERT_EQ(cli("passwd", "a brand new admin password").first, 0);
  EXPECT_EQ(admin("GET", "/me", "", {bearer(before)}).status, 403);
  EXPECT_EQ(admin("POST", "/token?grant_type=refresh_token",
                  R"({"refresh_token": ")" + text(before.at("refresh_token")) + "\"}")
                .status,
            400);
  const boost::json::object fresh = admin_sign_in("root@example.com", "a brand new admin password");
  ASSERT_FALSE(fresh.empty());
  ASSERT_EQ(cli("ban").first, 0);
  EXPECT_EQ(admin("GET", "/me", "", {bearer(fresh)}).status, 403);
  const HttpResult banned = admin("POST", "/token?grant_type=password",
                                  R"({"email": "root@example.com", "password": "a brand new admin password"})");
  EXPECT_EQ(banned.status, 400);
  EXPECT_EQ(text(json(banned).at("error_code")), "user_banned") << banned.body;
  ASSERT_EQ(cli("unban").first, 0);
  const boost::json::object last = admin_sign_in("root@example.com", "a brand new admin password");
  ASSERT_FALSE(last.empty());
  ASSERT_EQ(cli("delete").first, 0);
  EXPECT_EQ(admin("GET", "/me", "", {bearer(last)}).status, 403);
  EXPECT_EQ(a.db->scalar("SELECT count(*) FROM auth.admin_users"), "0");
  EXPECT_EQ(a.db->scalar("SELECT count(*) FROM auth.admin_refresh_tokens"), "0");
  EXPECT_EQ(cli("ban").first, 1) << "no such admin";
}

// authd's uid may not rotate keys; an admin may, through keyd's
// rotate_by_admin with the admin's own token, which keyd verifies and
// audits with the admin's id.
// An authenticator app's code for a base32 seed now (Botan's RFC 6238, not keyd's).
std::string totp_code(const std::string& base32_secret) {
  const Botan::secure_vector<std::uint8_t> seed = Botan::base32_decode(base32_secret);
  Botan::TOTP totp(seed.data(), seed.size(), "SHA-1", 6, 30);
  char code[8];
  std::snprintf(code, sizeof(code), "%06u", static_cast<unsigned>(totp.generate_totp(std::chrono::system_clock::now())));
  return code;
}

TEST_F(AuthdAdmin, AnAdminRotatesAKeyringAndKeydRecordsWho) {
  const boost::json::object password_only = admin_sign_in();
  // Rotation needs the second factor: an aal1 admin session is refused.
  const HttpResult weak = admin("POST", "/keys/rotate", R"({"keyring": "project:alpha"})", {bearer(password_only)});
  EXPECT_EQ(weak.status, 403) << weak.body;
  EXPECT_EQ(text(json(weak).at("error_code")), "insufficient_aal");
  const HttpResult enrolled = admin("POST", "/factors", R"({"factor_type": "totp"})", {bearer(password_only)});
  ASSERT_EQ(enrolled.status, 200) << enrolled.body;
  const std::string factor = text(json(enrolled).at("id"));
  const std::string secret = text(json(enrolled).at("totp").at("secret"));
  record_secret(secret);
  const HttpResult challenge = admin("POST", "/factors/" + factor + "/challenge", "{}", {bearer(password_only)});
  ASSERT_EQ(challenge.status, 200) << challenge.body;
  const HttpResult verified =
      admin("POST", "/factors/" + factor + "/verify",
            R"({"challenge_id": ")" + text(json(challenge).at("id")) + R"(", "code": ")" + totp_code(secret) + "\"}",
            {bearer(password_only)});
  ASSERT_EQ(verified.status, 200) << verified.body;
  const boost::json::object session = json(verified);
  EXPECT_EQ(text(claims_of(text(session.at("access_token"))).at("aal")), "aal2");
  const boost::json::object user = user_session(alpha, "rot@example.com");
  const std::string kid_before = text(boost::json::parse(keyd::base64url_decode(
      text(user.at("access_token")).substr(0, text(user.at("access_token")).find('.'))).value_or("{}")).at("kid"));
  // A project user's token, a malformed keyring, a keyring that is no name: refused, nothing rotated.
  EXPECT_EQ(admin("POST", "/keys/rotate", R"({"keyring": "project:alpha"})", {bearer(user)}).status, 403);
  EXPECT_EQ(admin("POST", "/keys/rotate", R"({"keyring": "project:ALPHA;drop"})", {bearer(session)}).status, 400);
  EXPECT_EQ(admin("POST", "/keys/rotate", R"({"keyring": "service"})", {bearer(session)}).status, 400);
  const HttpResult unknown = admin("POST", "/keys/rotate", R"({"keyring": "project:nosuch"})", {bearer(session)});
  EXPECT_EQ(unknown.status, 409) << unknown.body;

  const HttpResult rotated = admin("POST", "/keys/rotate", R"({"keyring": "project:alpha"})", {bearer(session)});
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  const std::string admin_id = text(claims_of(text(session.at("access_token"))).at("sub"));
  EXPECT_EQ(text(json(rotated).at("actor")), "admin:" + admin_id);
  // New tokens of the project carry the new key; the old one still verifies.
  const boost::json::object after = user_session(alpha, "rot2@example.com");
  const std::string kid_after = text(boost::json::parse(keyd::base64url_decode(
      text(after.at("access_token")).substr(0, text(after.at("access_token")).find('.'))).value_or("{}")).at("kid"));
  EXPECT_NE(kid_after, kid_before);
  EXPECT_EQ(project(alpha, "GET", "/auth/v1/user", "", {bearer(user)}).status, 200);
  EXPECT_EQ(project(alpha, "GET", "/auth/v1/user", "", {bearer(after)}).status, 200);
  // keyd's audit log names the admin.
  const std::string audit = read_file(a.dir.file("audit.log"));
  EXPECT_NE(audit.find("admin:" + admin_id), std::string::npos);
}

// Every route of both tables, walked: a token of the wrong realm or project
// is refused wherever a signed-in caller is needed, and never acts.
TEST_F(AuthdAdmin, EveryRouteRefusesATokenOfAnotherRealmOrProject) {
  const boost::json::object admin_session = admin_sign_in();
  const boost::json::object alpha_user = user_session(alpha, "a@example.com");
  user_session(beta, "b@example.com");
  const std::string sessions_before = a.db->scalar("SELECT count(*) FROM auth.sessions");
  int walked = 0;
  for (const authd::RouteSpec& r : authd::project_route_specs()) {
    if (r.access != authd::Access::project_user && r.access != authd::Access::project_user_aal2) {
      continue;
    }
    SCOPED_TRACE(std::string(r.name));
    const std::string path = concrete(r.path, "beta");
    const std::string body = r.body_limit > 0 ? "{}" : "";
    for (const std::string& token : {bearer(admin_session), bearer(alpha_user)}) {
      const HttpResult res = project(beta, std::string(r.method), path.substr(0), body, {token});
      EXPECT_EQ(res.status, 403) << res.body;
      EXPECT_EQ(text(json(res).at("error_code")), "bad_jwt") << res.body;
    }
    ++walked;
  }
  for (const authd::RouteSpec& r : authd::admin_route_specs()) {
    if (r.access != authd::Access::admin && r.access != authd::Access::admin_aal2) {
      continue;
    }
    SCOPED_TRACE(std::string(r.name));
    const std::string path = concrete(r.path, "alpha");  // admin routes over a project's users name it
    const HttpResult res =
        admin(std::string(r.method), path, r.body_limit > 0 ? "{}" : "", {bearer(alpha_user)});
    EXPECT_EQ(res.status, 403) << res.body;
    EXPECT_EQ(text(json(res).at("error_code")), "bad_jwt") << res.body;
    ++walked;
  }
  EXPECT_GE(walked, 8);
  EXPECT_EQ(a.db->scalar("SELECT count(*) FROM auth.sessions"), sessions_before) << "nothing signed out";
  EXPECT_EQ(a.db->scalar("SELECT count(*) FROM auth.admin_sessions"), "1");
  // The rightful owners still get in.
  EXPECT_EQ(admin("GET", "/me", "", {bearer(admin_session)}).status, 200);
  EXPECT_EQ(project(alpha, "GET", "/auth/v1/user", "", {bearer(alpha_user)}).status, 200);
}

}  // namespace
}  // namespace orbitnest::test
