// authd's project API at its edges: keys, malformed input, limits, the
// outbox without a relay, TLS reload, password rehash. (The flows with the
// real client libraries are in tests/e2e.)
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "tests/support/authd_session.h"

namespace orbitnest::test {
namespace {

using namespace std::chrono_literals;

class AuthdApi : public ::testing::Test {
 protected:
  void SetUp() override {
    keyd = a.start_keyd();
    config = a.write_config("authd.yaml", a.authd_yaml());
    debug = create_project("demo", true, config);
    live = create_project("live", false, config);
    ASSERT_FALSE(debug.publishable_key.empty());
    authd = a.start_authd({}, config);
    ASSERT_EQ(a.wait_for_status("/auth/v1/health", 200).status, 200);
  }
  std::string key_header(const TestProject& p) const { return "apikey: " + p.publishable_key; }
  std::string scalar(const std::string& sql) const { return a.db->scalar(sql); }

  Appliance a;
  std::unique_ptr<ChildProcess> keyd;
  std::unique_ptr<ChildProcess> authd;
  std::string config;
  TestProject debug;
  TestProject live;
};

TEST_F(AuthdApi, KeysAndProjectsAreChecked) {
  const HttpResult unknown = api(a, "GET", "/projects/nope/auth/v1/settings", "", {key_header(debug)});
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.body.find("project_not_found"), std::string::npos);
  const HttpResult no_key = api(a, "GET", "/projects/demo/auth/v1/settings");
  EXPECT_EQ(no_key.status, 401);
  EXPECT_NE(no_key.body.find("No API key found in request"), std::string::npos);
  EXPECT_EQ(api(a, "GET", "/projects/demo/auth/v1/settings", "", {"apikey: sb_publishable_wrong"}).status, 401);
  EXPECT_EQ(api(a, "GET", "/projects/demo/auth/v1/settings", "", {key_header(live)}).status, 401)
      << "another project's key";
  EXPECT_EQ(api(a, "GET", "/projects/demo/auth/v1/settings", "", {"apikey: " + debug.secret_key}).status, 200);
  // Open endpoints need no key: JWKS (with caching headers) and verify.
  const HttpResult jwks = api(a, "GET", "/projects/demo/auth/v1/.well-known/jwks.json");
  EXPECT_EQ(jwks.status, 200);
  EXPECT_EQ(jwks.headers.at("cache-control"), "public, max-age=600");
  EXPECT_NE(api(a, "GET", "/projects/demo/auth/v1/.well-known/jwks.json").body,
            api(a, "GET", "/projects/live/auth/v1/.well-known/jwks.json").body)
      << "each project has its own keyring";
}

TEST_F(AuthdApi, MalformedInputGetsClearErrorsInBothShapes) {
  const std::string signup = "/projects/demo/auth/v1/signup";
  const HttpResult bad_json = api(a, "POST", signup, "{\"email\":", {key_header(debug)});
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_NE(bad_json.body.find("\"error_code\":\"bad_json\""), std::string::npos) << bad_json.body;
  const HttpResult v2024 =
      api(a, "POST", signup, "[1]", {key_header(debug), "X-Supabase-Api-Version: 2024-01-01"});
  EXPECT_EQ(v2024.body, R"({"code":"bad_json","message":"The request body must be a JSON object"})");
  EXPECT_EQ(v2024.headers.at("x-supabase-api-version"), "2024-01-01");
  const HttpResult wrong_type = api(a, "POST", signup, R"({"email": 5})", {key_header(debug)});
  EXPECT_EQ(wrong_type.status, 400);
  EXPECT_NE(wrong_type.body.find("email must be a string"), std::string::npos);
  EXPECT_EQ(api(a, "POST", signup, R"({"email": "not-an-address"})", {key_header(debug)}).status, 400);
  const HttpResult grant = api(a, "POST", "/projects/demo/auth/v1/token?grant_type=magic", "{}", {key_header(debug)});
  EXPECT_EQ(grant.status, 400);
  EXPECT_EQ(api(a, "GET", "/projects/demo/auth/v1/user", "", {key_header(debug)}).status, 401);
  const HttpResult forged = api(a, "GET", "/projects/demo/auth/v1/user", "",
                                {key_header(debug), "Authorization: Bearer eyJhbGciOiJub25lIn0.e30."});
  EXPECT_EQ(forged.status, 403);
  EXPECT_NE(forged.body.find("bad_jwt"), std::string::npos);
  // None of it left a trace.
  EXPECT_EQ(scalar("SELECT count(*) FROM auth.pending_signups"), "0");
}

TEST_F(AuthdApi, WeakPasswordIsRefusedAndChangesNothing) {
  const HttpResult r = api(a, "POST", "/projects/demo/auth/v1/signup",
                           R"({"email": "weak@example.com", "password": "short"})",
                           {key_header(debug), "X-Supabase-Api-Version: 2024-01-01"});
  EXPECT_EQ(r.status, 422);
  const boost::json::value body = boost::json::parse(r.body);
  EXPECT_EQ(body.at("code").as_string(), "weak_password");
  EXPECT_EQ(body.at("weak_password").at("reasons").at(0).as_string(), "length");
  EXPECT_EQ(scalar("SELECT count(*) FROM auth.pending_signups"), "0");
  EXPECT_EQ(scalar("SELECT count(*) FROM auth.one_time_codes"), "0");
}

TEST_F(AuthdApi, ResendingTooSoonIs429WithRetryAfter) {
  const std::string otp = "/projects/demo/auth/v1/otp";
  EXPECT_EQ(api(a, "POST", otp, R"({"email": "soon@example.com"})", {key_header(debug)}).status, 200);
  const HttpResult again = api(a, "POST", otp, R"({"email": "soon@example.com"})", {key_header(debug)});
  EXPECT_EQ(again.status, 429);
  EXPECT_NE(again.body.find("over_email_send_rate_limit"), std::string::npos);
  const int retry = std::stoi(again.headers.at("retry-after"));
  EXPECT_GT(retry, 0);
  EXPECT_LE(retry, 60);
  EXPECT_EQ(scalar("SELECT count(*) FROM auth.one_time_codes WHERE recipient = 'soon@example.com'"), "1");
}

TEST_F(AuthdApi, DebugProjectAcceptsCode1234AndSendsNoMail) {
  EXPECT_EQ(api(a, "POST", "/projects/demo/auth/v1/signup", R"({"email": "dev@example.com"})", {key_header(debug)}).status,
            200);
  const HttpResult v = api(a, "POST", "/projects/demo/auth/v1/verify",
                           R"({"type": "signup", "email": "dev@example.com", "token": "1234"})");
  EXPECT_EQ(v.status, 200) << v.body;
  EXPECT_EQ(scalar("SELECT count(*) FROM auth.outbox"), "0");
  EXPECT_NE(read_file(authd->log_file()).find("authd.debug_mode_code project=demo"), std::string::npos);
}

TEST_F(AuthdApi, MailWithoutARelayStaysInTheOutbox) {
  EXPECT_EQ(api(a, "POST", "/projects/live/auth/v1/signup", R"({"email": "queued@example.com"})", {key_header(live)}).status,
            200);
  std::string error;
  for (int i = 0; i < 100 && error.empty(); ++i) {
    std::this_thread::sleep_for(50ms);
    error = scalar("SELECT coalesce(max(last_error), '') FROM auth.outbox WHERE recipient = 'queued@example.com'");
  }
  EXPECT_EQ(error, "no SMTP relay configured for this project");
  EXPECT_EQ(scalar("SELECT count(*) FROM auth.outbox WHERE sent_at IS NULL"), "1");
  const auto [code, out] = run_command({ORBITNEST_AUTHD_BIN, "--config", config, "outbox", "list"});
  EXPECT_EQ(code, 0);
  EXPECT_NE(out.find("queued@example.com"), std::string::npos) << out;
  // The code sits only in the mail body; it never reaches a log.
  const std::string body = scalar("SELECT body FROM auth.outbox WHERE recipient = 'queued@example.com'");
  const std::string code_in_mail = body.substr(body.find("is ") + 3, 4);
  EXPECT_EQ(read_file(authd->log_file()).find("is " + code_in_mail), std::string::npos);
}

TEST_F(AuthdApi, TlsCertificateReloadsOnSighup) {
  const std::string old_cert = read_file(a.cert_file);
  const auto [code, out] = run_command({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                        "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                                        "-addext", "subjectAltName=DNS:localhost", "-keyout", a.key_file, "-out",
                                        a.cert_file});
  ASSERT_EQ(code, 0) << out;
  write_file(a.dir.file("old.crt"), old_cert);
  EXPECT_EQ(https_request("GET", "https://localhost:" + std::to_string(a.port) + "/auth/v1/health",
                          a.dir.file("old.crt")).status, 200) << "old certificate until SIGHUP";
  ::kill(authd->pid(), SIGHUP);
  const HttpResult fresh = a.wait_for_status("/auth/v1/health", 200, 2500ms);
  EXPECT_EQ(fresh.status, 200) << fresh.error;
  EXPECT_EQ(https_request("GET", "https://localhost:" + std::to_string(a.port) + "/auth/v1/health",
                          a.dir.file("old.crt")).status, 0) << "the old certificate is gone";
  // A broken file is refused and the server keeps its certificate.
  write_file(a.cert_file, "not a certificate");
  ::kill(authd->pid(), SIGHUP);
  std::this_thread::sleep_for(300ms);
  EXPECT_NE(read_file(authd->log_file()).find("authd.tls_reload_failed"), std::string::npos);
  EXPECT_TRUE(authd->running());
}

}  // namespace
}  // namespace orbitnest::test

namespace orbitnest::test {
namespace {

using namespace std::chrono_literals;

// Every 5 wrong guesses at a live code lock the address for 15 minutes,
// doubling each time until a code is verified; 25 a day is a cap on top.
// (Time passing is the lock's end set in the past.) Guesses with no live
// code lock nobody out.
TEST_F(AuthdApi, WrongCodesLockTheAddressLongerEachTimeAndADayCapsThemAll) {
  const std::string verify = "/projects/demo/auth/v1/verify";
  ASSERT_EQ(api(a, "POST", "/projects/demo/auth/v1/signup", R"({"email": "guess@example.com"})", {key_header(debug)}).status,
            200);
  const std::string wrong = R"({"type": "signup", "email": "guess@example.com", "token": "9999"})";
  const std::string right = R"({"type": "signup", "email": "guess@example.com", "token": "1234"})";
  for (int block = 0; block < 5; ++block) {
    if (block > 0) {
      // A fresh code (past the resend interval): only guesses at a live
      // code count, and the last one died with its fifth wrong try.
      a.db->exec("UPDATE auth.one_time_codes SET created_at = created_at - interval '2 minutes'");
      ASSERT_EQ(api(a, "POST", "/projects/demo/auth/v1/resend", R"({"type": "signup", "email": "guess@example.com"})",
                    {key_header(debug)}).status,
                200);
    }
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(api(a, "POST", verify, wrong).status, 403) << "block " << block << " try " << i;
    }
    // Even the right code is refused now.
    const HttpResult locked = api(a, "POST", verify, right);
    EXPECT_EQ(locked.status, 429) << locked.body;
    EXPECT_NE(locked.body.find("over_request_rate_limit"), std::string::npos);
    if (block < 4) {
      const int expected = 900 << block;  // 15 min, 30, 60, 120
      const int retry = std::stoi(locked.headers.at("retry-after"));
      EXPECT_GT(retry, expected - 60) << "block " << block;
      EXPECT_LE(retry, expected) << "block " << block;
    }
    a.db->exec("UPDATE auth.code_lockouts SET locked_until = now() - interval '1 second'");
  }
  // 25 wrong codes today: the day's cap holds though the lock is over.
  const HttpResult capped = api(a, "POST", verify, right);
  EXPECT_EQ(capped.status, 429) << capped.body;
  EXPECT_NE(capped.body.find("tomorrow"), std::string::npos);
  EXPECT_EQ(scalar("SELECT count(*) FROM auth.users"), "0");

  // Guesses at an address with no live code count towards the day's cap
  // only: an attacker cannot lock a stranger out without sending them codes.
  for (int i = 0; i < 12; ++i) {
    EXPECT_EQ(api(a, "POST", verify, R"({"type": "email", "email": "nocode@example.com", "token": "9999"})").status, 403);
  }
  EXPECT_EQ(scalar("SELECT count(*) FROM auth.code_lockouts WHERE recipient = 'nocode@example.com'"), "0");

  // A verified code clears the address's lockout count.
  ASSERT_EQ(api(a, "POST", "/projects/demo/auth/v1/signup", R"({"email": "typo@example.com"})", {key_header(debug)}).status,
            200);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(api(a, "POST", verify, R"({"type": "signup", "email": "typo@example.com", "token": "9999"})").status, 403);
  }
  EXPECT_EQ(scalar("SELECT failures FROM auth.code_lockouts WHERE recipient = 'typo@example.com'"), "3");
  EXPECT_EQ(api(a, "POST", verify, R"({"type": "signup", "email": "typo@example.com", "token": "1234"})").status, 200);
  EXPECT_EQ(scalar("SELECT count(*) FROM auth.code_lockouts WHERE recipient = 'typo@example.com'"), "0");
}

TEST_F(AuthdApi, PerIpLimitsHoldOnOneNodeAndAreSharedThroughPostgres) {
  const TestProject limited = create_project("limited", true, config);
  ASSERT_EQ(run_command({ORBITNEST_AUTHD_BIN, "--config", config, "project", "settings", "limited",
                         "ip_requests_per_hour=3"}).first, 0);
  const std::string otp = "/projects/limited/auth/v1/otp";
  const auto ask = [&](int i) {
    return api(a, "POST", otp, R"({"email": "ip)" + std::to_string(i) + R"(@example.com"})", {key_header(limited)});
  };
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(ask(i).status, 200) << i;
  }
  const HttpResult over = ask(3);
  EXPECT_EQ(over.status, 429) << over.body;
  EXPECT_NE(over.body.find("over_request_rate_limit"), std::string::npos);
  ASSERT_TRUE(over.headers.count("retry-after"));
  EXPECT_GE(std::stoi(over.headers.at("retry-after")), 1);
  EXPECT_LE(std::stoi(over.headers.at("retry-after")), 3600);
  EXPECT_EQ(scalar("SELECT count(*) FROM auth.one_time_codes WHERE recipient = 'ip3@example.com'"), "0")
      << "a refused request does nothing";
  // Another project has its own budget.
  EXPECT_EQ(api(a, "POST", "/projects/demo/auth/v1/otp", R"({"email": "ip9@example.com"})", {key_header(debug)}).status,
            200);

  // The count reaches Postgres within a flush interval (250 ms)...
  std::string hits;
  for (int i = 0; i < 40 && hits != "3"; ++i) {
    std::this_thread::sleep_for(50ms);
    hits = scalar("SELECT coalesce(sum(hits), 0) FROM auth.rate_limits WHERE key LIKE 'ip:otp:limited:v4:%'");
  }
  EXPECT_EQ(hits, "3");
  // ...and a second node on the same database refuses once its first flush
  // has read it (the one request it may admit before is the bounded
  // overshoot the README states).
  std::string second_yaml = a.authd_yaml();
  const std::string port_line = "port: " + std::to_string(a.port);
  const int second_port = free_tcp_port();
  second_yaml.replace(second_yaml.find(port_line), port_line.size(), "port: " + std::to_string(second_port));
  const std::string admin_port_line = "port: " + std::to_string(a.admin_port);
  second_yaml.replace(second_yaml.find(admin_port_line), admin_port_line.size(),
                      "port: " + std::to_string(free_tcp_port()));
  // (A node also deletes counters of windows long over: once at start, then every few minutes.)
  a.db->exec("INSERT INTO auth.rate_limits VALUES ('ip:otp:limited:stale', now() - interval '2 days', 5), "
             "('ip:otp:limited:recent', now() - interval '2 hours', 5)");
  const std::unique_ptr<ChildProcess> second = a.start_authd({}, a.write_config("second.yaml", second_yaml));
  const auto ask_second = [&](int i) {
    return https_request("POST", "https://localhost:" + std::to_string(second_port) + otp, a.cert_file,
                         R"({"email": "second)" + std::to_string(i) + R"(@example.com"})",
                         {key_header(limited), "Content-Type: application/json"});
  };
  HttpResult first;
  for (int i = 0; i < 100 && first.status == 0; ++i) {
    first = ask_second(0);
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(first.status == 200 || first.status == 429) << first.status << " " << first.body;
  std::this_thread::sleep_for(600ms);
  const HttpResult later = ask_second(1);
  EXPECT_EQ(later.status, 429) << later.body;
  EXPECT_EQ(scalar("SELECT string_agg(key, ',' ORDER BY key) FROM auth.rate_limits WHERE key LIKE 'ip:otp:limited:%' "
                   "AND key NOT LIKE 'ip:otp:limited:v4:%'"),
            "ip:otp:limited:recent");
}

TEST_F(AuthdApi, PasswordsAreRehashedWhenTheParametersChange) {
  const std::string pw = "a fine password " + random_hex(4);
  record_secret(pw);
  ASSERT_EQ(api(a, "POST", "/projects/demo/auth/v1/signup",
                R"({"email": "rehash@example.com", "password": ")" + pw + "\"}", {key_header(debug)}).status,
            200);
  ASSERT_EQ(api(a, "POST", "/projects/demo/auth/v1/verify",
                R"({"type": "signup", "email": "rehash@example.com", "token": "1234"})").status,
            200);
  EXPECT_NE(scalar("SELECT encrypted_password FROM auth.users").find("$m=19456,t=2,p=1$"), std::string::npos);
  authd->stop();
  const std::string stronger = a.write_config("authd-t3.yaml", a.authd_yaml() + "passwords:\n  argon2_iterations: 3\n");
  authd = a.start_authd({}, stronger);
  ASSERT_EQ(a.wait_for_status("/auth/v1/health", 200).status, 200);
  const HttpResult signin = api(a, "POST", "/projects/demo/auth/v1/token?grant_type=password",
                                R"({"email": "rehash@example.com", "password": ")" + pw + "\"}", {key_header(debug)});
  EXPECT_EQ(signin.status, 200) << signin.body;
  EXPECT_NE(scalar("SELECT encrypted_password FROM auth.users").find("$m=19456,t=3,p=1$"), std::string::npos);
}

}  // namespace
}  // namespace orbitnest::test
