// Operations (#14 item 2): authd's metrics on their own listener, in the
// Prometheus text format checked by promtool (Debian's prometheus
// package), with real traffic behind every family the issue names; and
// the liveness / readiness split.
#include <gtest/gtest.h>

#include <functional>
#include <thread>
#include <string>

#include "tests/support/authd_session.h"

namespace orbitnest::test {
namespace {

class AuthdMetrics : public ::testing::Test {
 protected:
  void SetUp() override {
    KeydOptions scheduled;
    scheduled.period_days = 90;  // so that a next rotation is due
    keyd = a.start_keyd({}, a.write_config("keyd.yaml", a.keyd_yaml(scheduled)));
    metrics_port = free_tcp_port();
    config = a.write_config("authd.yaml", a.authd_yaml() + "metrics:\n  enabled: true\n  listen:\n    address: 127.0.0.1\n"
                                                            "    port: " + std::to_string(metrics_port) + "\n");
    project = create_project("metered", true, config);
    ASSERT_FALSE(project.publishable_key.empty());
    ASSERT_EQ(run_command({ORBITNEST_AUTHD_BIN, "--config", config, "project", "settings", "metered",
                           "ip_requests_per_hour=3"})
                  .first,
              0);
    authd = a.start_authd({}, config);
    ASSERT_EQ(a.wait_for_status("/auth/v1/health", 200).status, 200) << read_file(authd->log_file());
  }
  HttpResult ops(const std::string& path) const {
    return https_request("GET", "https://localhost:" + std::to_string(metrics_port) + path, a.cert_file);
  }
  HttpResult call(const std::string& method, const std::string& path, const std::string& body = "") const {
    return api(a, method, "/projects/metered/auth/v1" + path, body, {"apikey: " + project.publishable_key});
  }
  // The value of the first sample whose name and labels begin with
  // `prefix`, or -1. (No std::regex: GCC 12's sanitizer build warns inside it.)
  static double value_of(const std::string& text, const std::string& prefix) {
    std::size_t at = 0;
    while (at < text.size()) {
      const std::size_t end = std::min(text.find('\n', at), text.size());
      const std::string line = text.substr(at, end - at);
      if (line.rfind(prefix, 0) == 0) {
        return std::stod(line.substr(line.rfind(' ') + 1));
      }
      at = end + 1;
    }
    return -1;
  }

  Appliance a;
  std::unique_ptr<ChildProcess> keyd;
  std::unique_ptr<ChildProcess> authd;
  std::string config;
  int metrics_port = 0;
  TestProject project;
};

TEST_F(AuthdMetrics, EveryFamilyIsThereInTheExpositionFormat) {
  // Traffic: a sign-in by code (a signature, a mail in the outbox), a
  // wrong code, requests past the per-IP budget.
  EXPECT_EQ(call("POST", "/otp", R"({"email": "m@example.com"})").status, 200);
  EXPECT_EQ(call("POST", "/verify", R"({"type": "email", "email": "m@example.com", "token": "1234"})").status, 200);
  int refused = 0;
  for (int i = 0; i < 4; ++i) {
    refused += call("POST", "/otp", R"({"email": "n@example.com"})").status == 429;
  }
  EXPECT_GE(refused, 1);
  EXPECT_EQ(a.get("/metrics").status, 404) << "metrics are not on the public port";

  const HttpResult scraped = ops("/metrics");
  ASSERT_EQ(scraped.status, 200) << scraped.body;
  EXPECT_EQ(scraped.headers.at("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const std::string& m = scraped.body;

  // A real parser: promtool checks the exposition (and its lint rules).
  write_file(a.dir.file("metrics.txt"), m);
  const auto checked = run_command({"/bin/sh", "-c", "promtool check metrics < \"$1\" 2>&1", "sh", a.dir.file("metrics.txt")});
  EXPECT_EQ(checked.first, 0) << "promtool: " << checked.second;

  EXPECT_GE(value_of(m, R"(orbitnest_http_requests_total{listener="api",route="otp",status="200"})"), 1);
  EXPECT_GE(value_of(m, R"(orbitnest_http_requests_total{listener="api",route="otp",status="429"})"), 1);
  EXPECT_GE(value_of(m, R"(orbitnest_http_request_duration_seconds_count{listener="api",route="verify"})"), 1);
  EXPECT_GE(value_of(m, R"(orbitnest_http_request_duration_seconds_bucket{listener="api",route="verify",le="+Inf"})"), 1);
  EXPECT_GE(value_of(m, R"(orbitnest_rate_limit_refusals_total{class="otp",code="over_request_rate_limit"})"), 1);
  EXPECT_EQ(value_of(m, R"(orbitnest_pool_threads{pool="workers"})") > 0, true);
  EXPECT_GE(value_of(m, R"(orbitnest_pool_refusals_total{pool="hashing"})"), 0);
  EXPECT_GE(value_of(m, R"(orbitnest_postgres_pool_leases_total)"), 1);
  EXPECT_GE(value_of(m, R"(orbitnest_postgres_pool_wait_seconds_total)"), 0);
  EXPECT_GE(value_of(m, R"(orbitnest_keyd_round_trips_total{op="sign_jwt"})"), 1);
  EXPECT_GE(value_of(m, R"(orbitnest_keyd_round_trip_errors_total{op="sign_jwt"})"), 0);
  EXPECT_GE(value_of(m, R"(orbitnest_keyd_signatures_total{keyring="project:metered",kid=")"), 1);
  const double age = value_of(m, R"(orbitnest_keyd_key_age_seconds{keyring="project:metered"})");
  EXPECT_GE(age, 0);
  EXPECT_LT(age, 600);
  EXPECT_GT(value_of(m, R"(orbitnest_keyd_next_rotation_seconds{keyring="project:metered"})"), 80 * 86400);
  EXPECT_EQ(value_of(m, R"(orbitnest_keyd_keys{keyring="project:metered",state="current"})"), 1);
  EXPECT_GE(value_of(m, R"(orbitnest_keyd_ops_total{op="sign_jwt"})"), 1);
  EXPECT_GE(value_of(m, R"(orbitnest_outbox_depth{channel="email"})"), 0);
  EXPECT_GE(value_of(m, R"(orbitnest_outbox_oldest_seconds{channel="sms"})"), 0);
  // Nothing secret: no key, token or address in the text.
  EXPECT_EQ(m.find("m@example.com"), std::string::npos);
  EXPECT_EQ(m.find(project.publishable_key), std::string::npos);
}

TEST_F(AuthdMetrics, LivenessAndReadinessAreApart) {
  for (const auto& get : {std::function<HttpResult(const std::string&)>([&](const std::string& p) { return ops(p); }),
                          std::function<HttpResult(const std::string&)>([&](const std::string& p) { return a.get(p); })}) {
    EXPECT_EQ(get("/health/live").status, 200);
    EXPECT_EQ(get("/health/ready").status, 200);
  }
  // keyd gone: not ready (no traffic, please), but alive (no restart).
  keyd->stop();
  HttpResult ready;
  for (int i = 0; i < 50; ++i) {
    ready = ops("/health/ready");
    if (ready.status == 503) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(ready.status, 503) << ready.body;
  EXPECT_EQ(ops("/health/live").status, 200);
  // A scrape still answers, counting what it could not read.
  const HttpResult scraped = ops("/metrics");
  EXPECT_EQ(scraped.status, 200);
  EXPECT_GE(value_of(scraped.body, R"(orbitnest_metrics_source_errors_total{source="keyd"})"), 1);
}

TEST_F(AuthdMetrics, TheMetricsPortIsNotThePublicOne) {
  const std::string bad = a.write_config("bad.yaml", a.authd_yaml() + "metrics:\n  enabled: true\n  listen:\n    port: " +
                                                         std::to_string(a.port) + "\n");
  const auto out = run_command({ORBITNEST_AUTHD_BIN, "--config", bad, "--check-config"});
  EXPECT_EQ(out.first, 78);
  EXPECT_NE(out.second.find("metrics.listen.port"), std::string::npos) << out.second;
}

}  // namespace
}  // namespace orbitnest::test
