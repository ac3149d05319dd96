// Session lifetimes, second part (#14 item 4): the housekeeping purge
// deletes sessions past their realm's lifetimes (refresh tokens with them)
// and rotated refresh tokens past the history kept for replay detection,
// so the refresh-token table stops growing with every refresh.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <thread>

#include "tests/support/authd_session.h"

namespace orbitnest::test {
namespace {

std::string text(const boost::json::value& v) { return std::string(v.as_string()); }

class SessionPurge : public ::testing::Test {
 protected:
  void SetUp() override {
    keyd = a.start_keyd();
    config = a.write_config("authd.yaml", a.authd_yaml() + "sessions:\n  purge_interval_seconds: 1\n"
                                                           "  refresh_token_history_seconds: 60\n");
    for (const char* ref : {"boxed", "open"}) {
      keys[ref] = create_project(ref, true, config).publishable_key;
      ASSERT_FALSE(keys[ref].empty());
    }
    ASSERT_EQ(run_command({ORBITNEST_AUTHD_BIN, "--config", config, "project", "settings", "boxed",
                           "session_timebox_seconds=3600"})
                  .first,
              0);
    // Strict rotation (no reuse window), so that a replay is one at once.
    ASSERT_EQ(run_command({ORBITNEST_AUTHD_BIN, "--config", config, "project", "settings", "open",
                           "refresh_reuse_seconds=0"})
                  .first,
              0);
    authd = a.start_authd({}, config);
    ASSERT_EQ(a.wait_for_status("/auth/v1/health", 200).status, 200) << read_file(authd->log_file());
  }
  boost::json::object session(const std::string& ref, const std::string& email) {
    const std::vector<std::string> h = {"apikey: " + publishable(ref)};
    EXPECT_EQ(api(a, "POST", "/projects/" + ref + "/auth/v1/otp", R"({"email": ")" + email + "\"}", h).status, 200);
    const HttpResult v = api(a, "POST", "/projects/" + ref + "/auth/v1/verify",
                             R"({"type": "email", "email": ")" + email + R"(", "token": "1234"})", h);
    EXPECT_EQ(v.status, 200) << v.body;
    return boost::json::parse(v.body).as_object();
  }
  HttpResult refresh(const std::string& ref, const std::string& token) {
    return api(a, "POST", "/projects/" + ref + "/auth/v1/token?grant_type=refresh_token",
               R"({"refresh_token": ")" + token + "\"}", {"apikey: " + publishable(ref)});
  }
  std::string publishable(const std::string& ref) { return keys.at(ref); }
  // Waits for `sql` to answer `expected` (the purge runs every second).
  bool eventually(const std::string& sql, const std::string& expected) {
    for (int i = 0; i < 100; ++i) {
      if (a.db->scalar(sql) == expected) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  Appliance a;
  std::unique_ptr<ChildProcess> keyd;
  std::unique_ptr<ChildProcess> authd;
  std::string config;
  std::map<std::string, std::string> keys;
};

TEST_F(SessionPurge, SessionsPastTheirProjectsLifetimeGoWithTheirTokens) {
  const boost::json::object boxed = session("boxed", "b@example.com");
  const boost::json::object open = session("open", "o@example.com");
  const std::string boxed_id = text(boxed.at("user").at("id"));
  const std::string open_id = text(open.at("user").at("id"));
  // Two hours old: past boxed's one-hour timebox; open has none.
  a.db->exec("UPDATE auth.sessions SET created_at = now() - interval '2 hours'");
  EXPECT_TRUE(eventually("SELECT count(*) FROM auth.sessions WHERE user_id = '" + boxed_id + "'", "0"));
  EXPECT_EQ(a.db->scalar("SELECT count(*) FROM auth.refresh_tokens WHERE user_id = '" + boxed_id + "'"), "0");
  EXPECT_EQ(a.db->scalar("SELECT count(*) FROM auth.sessions WHERE user_id = '" + open_id + "'"), "1");
  EXPECT_EQ(refresh("open", text(open.at("refresh_token"))).status, 200);
}

TEST_F(SessionPurge, TheRefreshTokenTableStopsGrowing) {
  const boost::json::object first = session("open", "r@example.com");
  const std::string user = text(first.at("user").at("id"));
  std::string token = text(first.at("refresh_token"));
  const std::string oldest = token;
  constexpr int kRefreshes = 300;
  for (int i = 0; i < kRefreshes; ++i) {
    const HttpResult r = refresh("open", token);
    ASSERT_EQ(r.status, 200) << r.body;
    token = text(boost::json::parse(r.body).at("refresh_token"));
  }
  const std::string rows_before =
      a.db->scalar("SELECT count(*) FROM auth.refresh_tokens WHERE user_id = '" + user + "'");
  EXPECT_EQ(rows_before, std::to_string(kRefreshes + 1));
  // Rotated more than the history (60 s) ago: purged; the live token stays.
  a.db->exec("UPDATE auth.refresh_tokens SET updated_at = now() - interval '2 minutes' WHERE revoked");
  EXPECT_TRUE(eventually("SELECT count(*) FROM auth.refresh_tokens WHERE user_id = '" + user + "'", "1"));
  std::printf("refresh tokens of one session after %d refreshes: %s rows before the purge, 1 after\n", kRefreshes,
              rows_before.c_str());
  // A purged token presented again is unknown — refused, but it ends
  // nothing (its session goes on); the live one still refreshes.
  const HttpResult stale = refresh("open", oldest);
  EXPECT_EQ(stale.status, 400) << stale.body;
  const HttpResult live = refresh("open", token);
  EXPECT_EQ(live.status, 200) << live.body;
  // A token rotated within the history is still a replay: the family ends.
  const std::string next = text(boost::json::parse(live.body).at("refresh_token"));
  ASSERT_EQ(refresh("open", next).status, 200);
  EXPECT_EQ(refresh("open", next).status, 400);
  EXPECT_EQ(a.db->scalar("SELECT count(*) FROM auth.sessions WHERE user_id = '" + user + "'"), "0");
}

TEST_F(SessionPurge, AdminSessionsPastTheirLifetimeGo) {
  ASSERT_EQ(run_command({"/bin/sh", "-c", "printf '%s\\n' \"$PW\" | \"$1\" --config \"$2\" admin create \"$3\"", "sh",
                         ORBITNEST_AUTHD_BIN, config, "ops@example.com"},
                        {{"PW", "a long admin password"}})
                .first,
            0);
  const HttpResult in =
      https_request("POST", "https://localhost:" + std::to_string(a.admin_port) + "/admin/v1/token?grant_type=password",
                    a.cert_file, R"({"email": "ops@example.com", "password": "a long admin password"})",
                    {"Content-Type: application/json"});
  ASSERT_EQ(in.status, 200) << in.body;
  EXPECT_EQ(a.db->scalar("SELECT count(*) FROM auth.admin_sessions"), "1");
  // Past the admins' 12-hour timebox.
  a.db->exec("UPDATE auth.admin_sessions SET created_at = now() - interval '13 hours'");
  EXPECT_TRUE(eventually("SELECT count(*) FROM auth.admin_sessions", "0"));
  EXPECT_EQ(a.db->scalar("SELECT count(*) FROM auth.admin_refresh_tokens"), "0");
}

}  // namespace
}  // namespace orbitnest::test
