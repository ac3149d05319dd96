// GET /auth/v1/health follows keyd and Postgres: down → 503, back → 200.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "tests/support/daemon_fixture.h"

namespace orbitnest::test {
namespace {

using namespace std::chrono_literals;

std::string status_of(const HttpResult& r, const char* part) {
  const boost::json::value v = boost::json::parse(r.body);
  return std::string(v.at(part).at("status").as_string());
}

TEST(Health, OkWhenKeydAndPostgresAnswer) {
  Appliance a;
  auto keyd = a.start_keyd();
  auto authd = a.start_authd();
  const HttpResult r = a.wait_for_status("/auth/v1/health", 200);
  ASSERT_EQ(r.status, 200) << r.error << r.body;
  EXPECT_EQ(status_of(r, "keyd"), "ok");
  EXPECT_EQ(status_of(r, "postgres"), "ok");
  const boost::json::value v = boost::json::parse(r.body);
  EXPECT_EQ(v.at("version").as_string(), "0.1.0");
  EXPECT_EQ(v.at("status").as_string(), "ok");
  EXPECT_EQ(r.headers.at("cache-control"), "no-store");
}

TEST(Health, FollowsKeydThroughAKillAndARestart) {
  Appliance a;
  auto keyd = a.start_keyd();
  auto authd = a.start_authd();
  ASSERT_EQ(a.wait_for_status("/auth/v1/health", 200).status, 200);
  keyd->stop(SIGKILL);
  const HttpResult down = a.wait_for_status("/auth/v1/health", 503, 5s);
  ASSERT_EQ(down.status, 503);
  EXPECT_EQ(status_of(down, "keyd"), "down");
  EXPECT_EQ(status_of(down, "postgres"), "ok");
  EXPECT_EQ(down.headers.at("retry-after"), "5");
  keyd = a.start_keyd();
  const HttpResult back = a.wait_for_status("/auth/v1/health", 200, 10s);
  EXPECT_EQ(back.status, 200) << back.body;
}

TEST(Health, FollowsPostgres) {
  Appliance a;
  auto keyd = a.start_keyd();
  auto authd = a.start_authd();
  ASSERT_EQ(a.wait_for_status("/auth/v1/health", 200).status, 200);
  a.db->drop();
  const HttpResult down = a.wait_for_status("/auth/v1/health", 503, 10s);
  ASSERT_EQ(down.status, 503);
  EXPECT_EQ(status_of(down, "postgres"), "down");
  EXPECT_EQ(status_of(down, "keyd"), "ok");
  a.db->create();
  EXPECT_EQ(a.wait_for_status("/auth/v1/health", 200, 10s).status, 200);
}

TEST(Health, KeydNotReadyIsReported) {
  Appliance a;
  write_file(a.token.pin_file(), "not-the-pin\n", 0600);
  auto keyd = a.start_keyd();
  auto authd = a.start_authd();
  HttpResult r;
  for (int i = 0; i < 100; ++i) {
    r = a.get("/auth/v1/health");
    if (r.status == 503 && status_of(r, "keyd") == "not_ready") {
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(status_of(r, "keyd"), "not_ready");
  EXPECT_EQ(r.body.find("CKR_"), std::string::npos) << "internal reasons stay in the log";
}

}  // namespace
}  // namespace orbitnest::test
