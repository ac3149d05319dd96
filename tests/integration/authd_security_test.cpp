// Regression tests for the account-takeover, sign-out and enumeration
// defects of issue #10, each through the real HTTPS API with real keyd and
// Postgres: another spelling of an address, a stranger's pending password,
// answers and timing that told addresses apart, unbounded user_metadata,
// CORS, password changes with a bare access token, codes kept in the
// outbox, banned users, and GoTrue's sign-up answers.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>
#include <thread>

#include "keyd/keyring/base64url.h"
#include "tests/support/authd_session.h"
#include "tests/support/keyd_session.h"

namespace orbitnest::test {
namespace {

using namespace std::chrono_literals;

class AuthdSecurity : public ::testing::Test {
 protected:
  void SetUp() override {
    keyd = a.start_keyd();
    config = a.write_config("authd.yaml", a.authd_yaml());
    debug = create_project("demo", true, config);
    live = create_project("live", false, config);
    ASSERT_FALSE(debug.publishable_key.empty());
    ASSERT_EQ(run_command({ORBITNEST_AUTHD_BIN, "--config", config, "project", "settings", "demo",
                           "site_url=\"https://app.example.com\"", "redirect_urls=[\"https://admin.example.com/cb\"]"})
                  .first,
              0);
    // The timing test sends more than the per-IP default allows in an hour.
    ASSERT_EQ(run_command({ORBITNEST_AUTHD_BIN, "--config", config, "project", "settings", "live",
                           "ip_requests_per_hour=10000000"}).first,
              0);
    authd = a.start_authd({}, config);
    ASSERT_EQ(a.wait_for_status("/auth/v1/health", 200).status, 200) << read_file(authd->log_file());
  }
  HttpResult call(const TestProject& p, const std::string& method, const std::string& path, const std::string& body,
                  std::vector<std::string> headers = {}) const {
    headers.push_back("apikey: " + p.publishable_key);
    return api(a, method, "/projects/" + p.ref + "/auth/v1" + path, body, headers);
  }
  std::string scalar(const std::string& sql) const { return a.db->scalar(sql); }
  static boost::json::object json(const HttpResult& r) { return boost::json::parse(r.body).as_object(); }
  static std::string text(const boost::json::value& v) { return std::string(v.as_string()); }

  // A session for `email` on the debug project (code 1234), optionally with a password.
  boost::json::object sign_up(const std::string& email, const std::string& password = "") {
    const std::string pw = password.empty() ? "" : R"(, "password": ")" + password + "\"";
    EXPECT_EQ(call(debug, "POST", "/signup", R"({"email": ")" + email + "\"" + pw + "}").status, 200);
    const HttpResult v = call(debug, "POST", "/verify", R"({"type": "signup", "email": ")" + email + R"(", "token": "1234"})");
    EXPECT_EQ(v.status, 200) << v.body;
    return json(v);
  }

  Appliance a;
  std::unique_ptr<ChildProcess> keyd;
  std::unique_ptr<ChildProcess> authd;
  std::string config;
  TestProject debug;
  TestProject live;
};

// Item 1: lower() in Postgres folds K (KELVIN SIGN) to k, so "\u212Aim@"
// signed in as "kim@". Now there is one canonical form, compared byte for byte.
TEST_F(AuthdSecurity, AnotherSpellingOfAnAddressNeverReachesAnotherAccount) {
  const std::string kim_id = text(sign_up("kim@example.com").at("user").at("id"));
  const std::string codes_before = scalar("SELECT count(*) FROM auth.one_time_codes");
  for (const std::string spelling : {"\\u212Aim@example.com",         // KELVIN SIGN
                                     "\\u0130m@example.com",          // LATIN CAPITAL I WITH DOT ABOVE
                                     "\\uFF4B\\uFF49\\uFF4D@example.com",  // fullwidth kim
                                     "ki\\u0307m@example.com"}) {     // combining dot above
    for (const std::string path : {"/otp", "/recover", "/signup"}) {
      const HttpResult r = call(debug, "POST", path, R"({"email": ")" + spelling + "\"}");
      EXPECT_EQ(r.status, 400) << path << " " << spelling << ": " << r.body;
      EXPECT_NE(r.body.find("non-ASCII characters before the @"), std::string::npos) << r.body;
    }
    const HttpResult v = call(debug, "POST", "/verify",
                              R"({"type": "email", "email": ")" + spelling + R"(", "token": "1234"})");
    EXPECT_EQ(v.status, 400) << spelling << ": " << v.body;
  }
  EXPECT_EQ(scalar("SELECT count(*) FROM auth.one_time_codes"), codes_before) << "no code issued to any spelling";
  EXPECT_EQ(scalar("SELECT count(*) FROM auth.outbox"), "0");

  // ASCII case is one mailbox: the same account, stored in one form.
  ASSERT_EQ(call(debug, "POST", "/otp", R"({"email": "  KIM@Example.COM "})").status, 200);
  const HttpResult v = call(debug, "POST", "/verify", R"({"type": "email", "email": "Kim@EXAMPLE.com", "token": "1234"})");
  ASSERT_EQ(v.status, 200) << v.body;
  EXPECT_EQ(text(json(v).at("user").at("id")), kim_id);
  EXPECT_EQ(scalar("SELECT string_agg(DISTINCT recipient, ',') FROM auth.one_time_codes"), "kim@example.com");

  // An internationalized domain: every spelling (case, NFD, fullwidth) is
  // one domain, stored and mailed as its A-label.
  const HttpResult s = call(debug, "POST", "/signup", R"({"email": "jo@B\u00DCCHER.example"})");
  ASSERT_EQ(s.status, 200) << s.body;
  EXPECT_EQ(text(json(s).at("email")), "jo@xn--bcher-kva.example");
  const HttpResult nfd = call(debug, "POST", "/verify",
                              R"({"type": "signup", "email": "jo@bu\u0308cher.example", "token": "1234"})");
  ASSERT_EQ(nfd.status, 200) << nfd.body;
  EXPECT_EQ(text(json(nfd).at("user").at("email")), "jo@xn--bcher-kva.example");
  ASSERT_EQ(call(debug, "POST", "/otp", R"({"email": "jo@\uFF42\u00FCcher.example"})").status, 200);  // fullwidth b
  EXPECT_EQ(scalar("SELECT count(*) FROM auth.users WHERE email LIKE 'jo@%'"), "1");
  EXPECT_EQ(call(debug, "POST", "/otp", R"({"email": "jo@b\u00FCcher..example"})").status, 400);
  EXPECT_EQ(call(debug, "POST", "/otp", R"({"email": "jo@127.0.0.1"})").status, 400);
}

// Item 2: a stranger's sign-up with a password must not become the
// account's password when the address's owner signs in with a code.
TEST_F(AuthdSecurity, AStrangersPendingPasswordNeverBecomesTheAccountsPassword) {
  const std::string victim = "victim@example.com";
  const std::string attacker_password = "Attacker-chosen-9";
  ASSERT_EQ(call(debug, "POST", "/signup", R"({"email": ")" + victim + R"(", "password": ")" + attacker_password + "\"}")
                .status,
            200);
  // The owner, later (past the resend interval), asks for a sign-in code
  // (creating the account) and uses it.
  a.db->exec("DELETE FROM auth.one_time_codes");
  ASSERT_EQ(call(debug, "POST", "/otp", R"({"email": ")" + victim + "\"}").status, 200);
  const HttpResult v = call(debug, "POST", "/verify", R"({"type": "email", "email": ")" + victim + R"(", "token": "1234"})");
  ASSERT_EQ(v.status, 200) << v.body;
  const HttpResult stolen = call(debug, "POST", "/token?grant_type=password",
                                 R"({"email": ")" + victim + R"(", "password": ")" + attacker_password + "\"}");
  EXPECT_EQ(stolen.status, 400) << stolen.body;
  EXPECT_NE(stolen.body.find("invalid_credentials"), std::string::npos);
  EXPECT_EQ(scalar("SELECT count(*) FROM auth.users WHERE email = 'victim@example.com' AND encrypted_password IS NULL"),
            "1");

  // The other order: the owner asks for a code first; a stranger's sign-up
  // with a password, later, adds no password to that pending sign-up, so
  // the owner's newest code (the stranger's mail) signs in without it.
  ASSERT_EQ(call(debug, "POST", "/otp", R"({"email": "first@example.com"})").status, 200);
  a.db->exec("DELETE FROM auth.one_time_codes");  // past the resend interval
  ASSERT_EQ(call(debug, "POST", "/signup",
                 R"({"email": "first@example.com", "password": ")" + attacker_password + "\"}").status,
            200);
  EXPECT_EQ(scalar("SELECT count(*) FROM auth.pending_signups WHERE email = 'first@example.com' AND "
                   "encrypted_password IS NULL AND password_locked"),
            "1");
  ASSERT_EQ(call(debug, "POST", "/verify", R"({"type": "signup", "email": "first@example.com", "token": "1234"})").status,
            200);
  EXPECT_EQ(call(debug, "POST", "/token?grant_type=password",
                 R"({"email": "first@example.com", "password": ")" + attacker_password + "\"}").status,
            400);

  // A passwordless sign-up drops a pending password too.
  ASSERT_EQ(call(debug, "POST", "/signup", R"({"email": "v2@example.com", "password": ")" + attacker_password + "\"}")
                .status,
            200);
  a.db->exec("DELETE FROM auth.one_time_codes");  // past the resend interval
  ASSERT_EQ(call(debug, "POST", "/signup", R"({"email": "v2@example.com"})").status, 200);
  EXPECT_EQ(scalar("SELECT count(*) FROM auth.pending_signups WHERE email = 'v2@example.com' AND "
                   "encrypted_password IS NULL"),
            "1");

  // A pending sign-up past its day is dead, even with a live code, and the
  // periodic sweep (at start, then every 10 minutes) deletes it.
  ASSERT_EQ(call(debug, "POST", "/signup", R"({"email": "late@example.com"})").status, 200);
  a.db->exec("UPDATE auth.pending_signups SET expires_at = now() - interval '1 second' WHERE email = 'late@example.com'");
  const HttpResult late =
      call(debug, "POST", "/verify", R"({"type": "signup", "email": "late@example.com", "token": "1234"})");
  EXPECT_EQ(late.status, 403) << late.body;
  EXPECT_EQ(scalar("SELECT count(*) FROM auth.users WHERE email = 'late@example.com'"), "0");
  authd.reset();
  authd = a.start_authd({}, config);
  ASSERT_EQ(a.wait_for_status("/auth/v1/health", 200).status, 200);
  std::string left = "1";
  for (int i = 0; i < 50 && left != "0"; ++i) {
    left = scalar("SELECT count(*) FROM auth.pending_signups WHERE email = 'late@example.com'");
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(left, "0");
}

// Item 3: signup, otp, recover and resend answered differently for an
// address with an account (no code sent, so no send limit) and without.
TEST_F(AuthdSecurity, SendEndpointsAnswerAlikeForKnownAndUnknownAddresses) {
  const auto make_user = [&](const std::string& email) {
    a.db->exec("INSERT INTO auth.users (id, project_ref, email, email_confirmed_at) VALUES (gen_random_uuid(), 'live', '" +
               email + "', now())");
  };
  const std::set<std::string> volatile_headers = {"x-request-id", "date", "content-length"};
  const auto header_names = [&](const HttpResult& r) {
    std::set<std::string> names;
    for (const auto& [k, v] : r.headers) {
      if (!volatile_headers.count(k)) {
        names.insert(k + (k == "retry-after" ? "" : ": " + v));
      }
    }
    return names;
  };
  const auto shape = [](const HttpResult& r) {
    std::set<std::string> keys;
    if (r.body.empty() || r.body[0] != '{') {
      return keys;
    }
    const boost::json::value parsed = boost::json::parse(r.body);
    for (const auto& kv : parsed.as_object()) {
      keys.insert(std::string(kv.key()) + (kv.key() == "identities" ? std::to_string(kv.value().as_array().size()) : ""));
    }
    return keys;
  };
  int n = 0;
  for (const std::string endpoint : {"/signup", "/otp", "/recover", "/resend"}) {
    const std::string known = "known" + std::to_string(n) + "@example.com";
    const std::string unknown = "unknown" + std::to_string(n++) + "@example.com";
    make_user(known);
    const auto body = [&](const std::string& email) {
      return endpoint == "/resend" ? R"({"type": "signup", "email": ")" + email + "\"}"
                                   : R"({"email": ")" + email + R"(", "password": "Some-password-1"})";
    };
    for (int round = 0; round < 2; ++round) {  // the second is within the resend interval: 429 for both
      const HttpResult k = call(live, "POST", endpoint, body(known));
      const HttpResult u = call(live, "POST", endpoint, body(unknown));
      EXPECT_EQ(k.status, u.status) << endpoint << " round " << round << ": " << k.body << " / " << u.body;
      EXPECT_EQ(k.status, round == 0 ? 200 : 429) << endpoint;
      EXPECT_EQ(header_names(k), header_names(u)) << endpoint;
      EXPECT_EQ(shape(k), shape(u)) << endpoint << ": " << k.body << " / " << u.body;
      if (endpoint != "/signup" && round == 0) {
        EXPECT_EQ(k.body, u.body) << endpoint;
      }
    }
  }

  // Timing: password-reset requests for addresses with and without an
  // account, in pairs (which goes first alternates), so that the machine's
  // drift hits both sides alike. A sign test over the paired differences
  // (latencies have heavy tails; a t test drowns in them): if neither side
  // is slower, each is slower in half the pairs. Before, the known ones did
  // a keyd MAC and a transaction more: 2 ms of median here, z ≈ 10.
  constexpr int kPairs = 600;
  a.db->exec("INSERT INTO auth.users (id, project_ref, email, email_confirmed_at) SELECT gen_random_uuid(), 'live', "
             "'tk' || g || '@example.com', now() FROM generate_series(0, " + std::to_string(kPairs - 1) + ") g");
  int known_slower = 0;
  std::vector<double> known_ms;
  std::vector<double> unknown_ms;
  for (int i = 0; i < kPairs; ++i) {
    double ms[2] = {0, 0};
    for (int side = 0; side < 2; ++side) {
      const bool is_known = (side == 0) == (i % 2 == 0);
      const std::string email = (is_known ? "tk" : "tu") + std::to_string(i) + "@example.com";
      const auto start = std::chrono::steady_clock::now();
      const HttpResult r = call(live, "POST", "/recover", R"({"email": ")" + email + "\"}");
      ms[is_known ? 0 : 1] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      ASSERT_EQ(r.status, 200) << r.body << r.error << " (pair " << i << ")";
    }
    known_ms.push_back(ms[0]);
    unknown_ms.push_back(ms[1]);
    known_slower += ms[0] > ms[1] ? 1 : 0;
  }
  const double z = (known_slower - kPairs / 2.0) / std::sqrt(kPairs / 4.0);
  std::sort(known_ms.begin(), known_ms.end());
  std::sort(unknown_ms.begin(), unknown_ms.end());
  std::cout << "recover latency median known " << known_ms[kPairs / 2] << " ms, unknown " << unknown_ms[kPairs / 2]
            << " ms; known slower in " << known_slower << " of " << kPairs << " pairs, sign test z = " << z << "\n";
  EXPECT_LT(std::abs(z), 4.0) << "known and unknown addresses take measurably different times";
}

// Item 5: metadata that makes every later token too large for keyd locked
// the account; a NUL answered 500 and left a counter behind.
TEST_F(AuthdSecurity, UserMetadataIsBoundedAtTheDoorAndChangesNothing) {
  const std::string big(4100, 'x');
  std::string deep = "1";
  for (int i = 0; i < 12; ++i) deep = "[" + deep + "]";
  for (const std::string& data : std::vector<std::string>{R"({"bio": ")" + big + "\"}", R"({"deep": )" + deep + "}",
                                                          R"({"a\u0000b": 1})", R"({"name": "x\u0000"})"}) {
    const HttpResult r = call(debug, "POST", "/signup", R"({"email": "meta@example.com", "data": )" + data + "}");
    EXPECT_EQ(r.status, 400) << r.body.substr(0, 200);
    EXPECT_NE(r.body.find("validation_failed"), std::string::npos);
    EXPECT_EQ(call(debug, "POST", "/otp", R"({"email": "meta@example.com", "data": )" + data + "}").status, 400);
  }
  EXPECT_EQ(scalar("SELECT count(*) FROM auth.pending_signups"), "0");
  EXPECT_EQ(scalar("SELECT count(*) FROM auth.rate_limits WHERE key LIKE 'send:%'"), "0") << "no counter left behind";

  // PUT /user merges: the merged result is bounded too, and the account
  // keeps working.
  const boost::json::object session = sign_up("meta@example.com");
  const std::string bearer = "Authorization: Bearer " + text(session.at("access_token"));
  ASSERT_EQ(call(debug, "PUT", "/user", R"({"data": {"a": ")" + std::string(2500, 'a') + "\"}}", {bearer}).status, 200);
  const HttpResult over = call(debug, "PUT", "/user", R"({"data": {"b": ")" + std::string(2500, 'b') + "\"}}", {bearer});
  EXPECT_EQ(over.status, 400) << over.body;
  EXPECT_EQ(call(debug, "PUT", "/user", R"({"data": {"c\u0000": 1}})", {bearer}).status, 400);
  // At the bound, the token it makes still fits the header limit: the
  // refreshed token is used, not only issued.
  ASSERT_EQ(call(debug, "PUT", "/user", R"({"data": {"a": ")" + std::string(4080, 'a') + "\"}}", {bearer}).status, 200);
  const HttpResult refreshed = call(debug, "POST", "/token?grant_type=refresh_token",
                                    R"({"refresh_token": ")" + text(session.at("refresh_token")) + "\"}");
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  const HttpResult used = call(debug, "GET", "/user", "", {"Authorization: Bearer " + text(json(refreshed).at("access_token"))});
  EXPECT_EQ(used.status, 200) << used.body.substr(0, 200);
}

// Each route reads at most its own body limit, refused from the header
// before the body is read: 16 KiB for the auth routes, none for GETs, the
// server's 64 KiB for RPC.
TEST_F(AuthdSecurity, EachRouteReadsAtMostItsOwnBodyLimit) {
  const std::string padded = R"({"email": "body@example.com", "pad": ")" + std::string(20 * 1024, 'x') + "\"}";
  EXPECT_EQ(call(debug, "POST", "/signup", padded).status, 413);
  EXPECT_EQ(call(debug, "GET", "/settings", "{}").status, 413) << "a GET takes no body";
  const HttpResult rpc = api(a, "POST", "/projects/demo/rest/v1/rpc/nothing_here", padded,
                             {"apikey: " + debug.publishable_key});
  EXPECT_NE(rpc.status, 413) << rpc.body;
  EXPECT_EQ(call(debug, "POST", "/signup", R"({"email": "body@example.com"})").status, 200);
}

// Items 14–16: GoTrue's sign-up answers.
TEST_F(AuthdSecurity, SignUpAnswersTheIdTheAccountGetsAndItsEmailIdentity) {
  const HttpResult s = call(debug, "POST", "/signup", R"({"email": "id@example.com", "password": "Good-password-1"})");
  ASSERT_EQ(s.status, 200);
  const std::string promised = text(json(s).at("id"));
  EXPECT_EQ(json(s).at("identities").as_array().size(), 1u);
  EXPECT_EQ(text(json(s).at("identities").at(0).at("provider")), "email");
  // Asked again before verifying: still the same id.
  a.db->exec("DELETE FROM auth.one_time_codes");
  EXPECT_EQ(text(json(call(debug, "POST", "/signup", R"({"email": "id@example.com"})")).at("id")), promised);
  const HttpResult v = call(debug, "POST", "/verify", R"({"type": "signup", "email": "id@example.com", "token": "1234"})");
  ASSERT_EQ(v.status, 200) << v.body;
  EXPECT_EQ(text(json(v).at("user").at("id")), promised);
  // A registered address: a random id, the same shape.
  const HttpResult again = call(debug, "POST", "/signup", R"({"email": "id@example.com"})");
  EXPECT_NE(text(json(again).at("id")), promised);
  EXPECT_EQ(json(again).at("identities").as_array().size(), 1u);
  // ...and the same one every time, as a pending sign-up's is.
  a.db->exec("DELETE FROM auth.one_time_codes");
  EXPECT_EQ(text(json(call(debug, "POST", "/signup", R"({"email": "id@example.com"})")).at("id")),
            text(json(again).at("id")));
  // Neither email nor phone: an anonymous sign-up, which is off.
  const HttpResult anon = call(debug, "POST", "/signup", "{}", {"X-Supabase-Api-Version: 2024-01-01"});
  EXPECT_EQ(anon.status, 422);
  EXPECT_EQ(text(json(anon).at("code")), "anonymous_provider_disabled");
}

// Item 13: CORS was any Origin (null too) with credentials.
TEST_F(AuthdSecurity, CorsAllowsOnlyTheProjectsOriginsAndNeverCredentials) {
  const auto settings = [&](const std::string& origin) {
    return call(debug, "GET", "/settings", "", {"Origin: " + origin});
  };
  const HttpResult ok = settings("https://app.example.com");
  EXPECT_EQ(ok.headers.count("access-control-allow-origin") ? ok.headers.at("access-control-allow-origin") : "",
            "https://app.example.com");
  EXPECT_EQ(ok.headers.count("access-control-allow-credentials"), 0u);
  EXPECT_EQ(settings("https://admin.example.com").headers.count("access-control-allow-origin"), 1u)
      << "a redirect_urls origin";
  for (const std::string bad : {"https://evil.example", "null", "https://app.example.com.evil.example",
                                "http://app.example.com"}) {
    EXPECT_EQ(settings(bad).headers.count("access-control-allow-origin"), 0u) << bad;
    const HttpResult pre = api(a, "OPTIONS", "/projects/demo/auth/v1/token",
                               "", {"Origin: " + bad, "Access-Control-Request-Method: POST"});
    EXPECT_EQ(pre.status, 204);
    EXPECT_EQ(pre.headers.count("access-control-allow-origin"), 0u) << bad;
    EXPECT_EQ(pre.headers.count("access-control-allow-methods"), 0u) << bad;
  }
  const HttpResult pre = api(a, "OPTIONS", "/projects/demo/auth/v1/token", "",
                             {"Origin: https://app.example.com", "Access-Control-Request-Method: POST"});
  EXPECT_EQ(pre.headers.count("access-control-allow-methods"), 1u);
  ASSERT_EQ(run_command({ORBITNEST_AUTHD_BIN, "--config", config, "project", "settings", "live",
                         "cors_allowed_origins=[\"*\"]"}).first,
            0);
  std::string any;
  for (int i = 0; i < 80 && any != "*"; ++i) {  // the project cache lives 5 s
    const HttpResult r = call(live, "GET", "/settings", "", {"Origin: https://anywhere.example"});
    any = r.headers.count("access-control-allow-origin") ? r.headers.at("access-control-allow-origin") : "";
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(any, "*");
}

// Item 13: PUT /user changed a password with only an access token.
TEST_F(AuthdSecurity, APasswordChangeNeedsTheCurrentPasswordOrAReauthenticationCode) {
  sign_up("pw@example.com", "First-password-1");
  const HttpResult signin = call(debug, "POST", "/token?grant_type=password",
                                 R"({"email": "pw@example.com", "password": "First-password-1"})");
  ASSERT_EQ(signin.status, 200);
  const std::string bearer = "Authorization: Bearer " + text(json(signin).at("access_token"));
  const HttpResult bare = call(debug, "PUT", "/user", R"({"password": "Second-password-2"})", {bearer});
  EXPECT_EQ(bare.status, 400) << bare.body;
  EXPECT_NE(bare.body.find("reauthentication_needed"), std::string::npos);
  const HttpResult wrong = call(debug, "PUT", "/user",
                                R"({"password": "Second-password-2", "current_password": "nope-nope-1"})", {bearer});
  EXPECT_EQ(wrong.status, 400);
  EXPECT_NE(wrong.body.find("current_password_invalid"), std::string::npos);
  const HttpResult bad_nonce = call(debug, "PUT", "/user", R"({"password": "Second-password-2", "nonce": "9999"})",
                                    {bearer});
  EXPECT_EQ(bad_nonce.status, 422);
  EXPECT_NE(bad_nonce.body.find("reauthentication_not_valid"), std::string::npos);
  EXPECT_EQ(call(debug, "POST", "/token?grant_type=password",
                 R"({"email": "pw@example.com", "password": "First-password-1"})").status,
            200)
      << "nothing changed";
  EXPECT_EQ(call(debug, "PUT", "/user",
                 R"({"password": "Second-password-2", "current_password": "First-password-1"})", {bearer}).status,
            200);
  // A reauthentication code (debug project: 1234) works once.
  ASSERT_EQ(call(debug, "GET", "/reauthenticate", "", {bearer}).status, 200);
  EXPECT_EQ(call(debug, "PUT", "/user", R"({"password": "Third-password-3", "nonce": "1234"})", {bearer}).status, 200);
  EXPECT_EQ(call(debug, "PUT", "/user", R"({"password": "Fourth-password-4", "nonce": "1234"})", {bearer}).status, 422);
  // A session a mailed code began minutes ago (the reset flow) needs nothing more.
  ASSERT_EQ(call(debug, "POST", "/recover", R"({"email": "pw@example.com"})").status, 200);
  const HttpResult reset = call(debug, "POST", "/verify", R"({"type": "recovery", "email": "pw@example.com", "token": "1234"})");
  ASSERT_EQ(reset.status, 200);
  EXPECT_EQ(call(debug, "PUT", "/user", R"({"password": "Fifth-password-5"})",
                 {"Authorization: Bearer " + text(json(reset).at("access_token"))}).status,
            200);
}

// Item 13: codes and link tokens sat in auth.outbox in clear, forever for a
// project without a relay.
TEST_F(AuthdSecurity, QueuedCodesAreBlankedWhenTheyExpire) {
  ASSERT_EQ(call(live, "POST", "/signup", R"({"email": "queued@example.com"})").status, 200);
  EXPECT_EQ(scalar("SELECT count(*) FROM auth.outbox WHERE body LIKE '%Your code is%' AND "
                   "expires_at BETWEEN created_at + interval '599 seconds' AND created_at + interval '601 seconds'"),
            "1");
  a.db->exec("UPDATE auth.outbox SET expires_at = now() - interval '1 second'");
  std::string body = "x";
  for (int i = 0; i < 100 && !body.empty(); ++i) {
    body = scalar("SELECT body FROM auth.outbox");
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(body, "");
  EXPECT_NE(scalar("SELECT last_error FROM auth.outbox").find("expired"), std::string::npos);
}

// Item 13: banned_until was never enforced.
TEST_F(AuthdSecurity, ABannedUserCannotSignInOrUseASession) {
  const boost::json::object session = sign_up("banned@example.com", "Banned-password-1");
  a.db->exec("UPDATE auth.users SET banned_until = now() + interval '1 day' WHERE email = 'banned@example.com'");
  const HttpResult user = call(debug, "GET", "/user", "", {"Authorization: Bearer " + text(session.at("access_token"))});
  EXPECT_EQ(user.status, 403);
  EXPECT_NE(user.body.find("user_banned"), std::string::npos);
  const HttpResult pw = call(debug, "POST", "/token?grant_type=password",
                             R"({"email": "banned@example.com", "password": "Banned-password-1"})");
  EXPECT_EQ(pw.status, 400);
  EXPECT_NE(pw.body.find("user_banned"), std::string::npos);
  ASSERT_EQ(call(debug, "POST", "/otp", R"({"email": "banned@example.com"})").status, 200);
  const HttpResult otp = call(debug, "POST", "/verify", R"({"type": "email", "email": "banned@example.com", "token": "1234"})");
  EXPECT_EQ(otp.status, 403);
  EXPECT_NE(otp.body.find("user_banned"), std::string::npos);
  const HttpResult refresh = call(debug, "POST", "/token?grant_type=refresh_token",
                                  R"({"refresh_token": ")" + text(session.at("refresh_token")) + "\"}");
  EXPECT_EQ(refresh.status, 400) << refresh.body;
  EXPECT_NE(refresh.body.find("user_banned"), std::string::npos);
  // A ban that is over no longer applies.
  a.db->exec("UPDATE auth.users SET banned_until = now() - interval '1 second' WHERE email = 'banned@example.com'");
  EXPECT_EQ(call(debug, "POST", "/token?grant_type=password",
                 R"({"email": "banned@example.com", "password": "Banned-password-1"})").status,
            200);
}

}  // namespace
}  // namespace orbitnest::test

namespace orbitnest::test {
namespace {

// Item 13: the access-token check ignored aud. A keyring that may also sign
// for a second audience (another app on the same keys) signs a token for
// it, with a real session: authd must not take it as a user of its API.
TEST(AuthdTokenAudience, ATokenForAnotherAudienceIsRefused) {
  Appliance a;
  std::string yaml = a.keyd_yaml();
  const std::string project_section = "\n  project:\n    issuer_prefix: https://localhost/projects/\n";
  const std::size_t at = yaml.find(project_section);
  ASSERT_NE(at, std::string::npos) << yaml;
  yaml.insert(at + project_section.size(), "    audiences: [authenticated, other-app]\n");
  auto keyd = a.start_keyd({}, a.write_config("keyd.yaml", yaml));
  const std::string config = a.write_config("authd.yaml", a.authd_yaml());
  const TestProject demo = create_project("demo", true, config);
  auto authd = a.start_authd({}, config);
  ASSERT_EQ(a.wait_for_status("/auth/v1/health", 200).status, 200);
  const std::string key = "apikey: " + demo.publishable_key;
  ASSERT_EQ(api(a, "POST", "/projects/demo/auth/v1/signup", R"({"email": "aud@example.com"})", {key}).status, 200);
  const HttpResult v = api(a, "POST", "/projects/demo/auth/v1/verify",
                           R"({"type": "signup", "email": "aud@example.com", "token": "1234"})");
  ASSERT_EQ(v.status, 200) << v.body;
  const std::string token(boost::json::parse(v.body).at("access_token").as_string());
  EXPECT_EQ(api(a, "GET", "/projects/demo/auth/v1/user", "", {key, "Authorization: Bearer " + token}).status, 200);

  // The same claims, for the other audience, signed by the same keyring.
  const std::size_t dot1 = token.find('.');
  const std::size_t dot2 = token.find('.', dot1 + 1);
  boost::json::object claims =
      boost::json::parse(*keyd::base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1))).as_object();
  claims["aud"] = "other-app";
  claims["iat"] = unix_now();
  claims["exp"] = unix_now() + 600;
  keyd::KeydConnection conn = connect_when_ready(a);
  const std::string other(conn.call(keyd::Op::sign_jwt, {"project:demo", boost::json::serialize(claims)}).fields.at(0));
  const HttpResult r = api(a, "GET", "/projects/demo/auth/v1/user", "", {key, "Authorization: Bearer " + other});
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_NE(r.body.find("another audience"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace orbitnest::test
