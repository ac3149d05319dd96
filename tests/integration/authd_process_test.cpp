// authd as a process: readiness only once keyd and Postgres answered,
// config errors before binding, HTTP limits, graceful stop.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "config/config_error.h"
#include "tests/support/daemon_fixture.h"
#include "tests/support/notify_socket.h"

namespace orbitnest::test {
namespace {

using namespace std::chrono_literals;

bool port_accepts(int port) {
  const UniqueFd fd(::socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  return ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
}

TEST(AuthdProcess, ReadyOnlyOnceKeydAndPostgresAnswered) {
  Appliance a;
  NotifySocket notify(a.dir.file("notify.sock"));
  SpawnOptions opts;
  opts.env = {{"NOTIFY_SOCKET", notify.path()}};
  auto authd = a.start_authd(opts);
  // Serving (health says why not) but not READY while keyd is absent.
  const HttpResult early = a.wait_for_status("/auth/v1/health", 503);
  ASSERT_EQ(early.status, 503) << early.error << read_file(authd->log_file());
  EXPECT_NE(early.body.find("\"keyd\":{\"status\":\"down\"}"), std::string::npos) << early.body;
  EXPECT_EQ(notify.wait_for("READY=1", 1500ms), "");
  auto keyd = a.start_keyd();
  EXPECT_NE(notify.wait_for("READY=1", 15s), "") << read_file(authd->log_file());
  EXPECT_EQ(a.wait_for_status("/auth/v1/health", 200).status, 200);
  ::kill(authd->pid(), SIGTERM);
  EXPECT_NE(notify.wait_for("STOPPING=1", 10s), "");
  EXPECT_EQ(authd->wait_exit(15s), 0) << read_file(authd->log_file());
}

TEST(AuthdProcess, BadConfigExits78BeforeBinding) {
  Appliance a(false);
  std::string yaml = a.authd_yaml();
  yaml.replace(yaml.find(a.cert_file), a.cert_file.size(), a.dir.file("missing.crt"));
  const std::string path = a.write_config("authd-bad.yaml", yaml);
  auto authd = a.start_authd({}, path);
  EXPECT_EQ(authd->wait_exit(10s), config::kExitConfig);
  EXPECT_EQ(read_file(authd->log_file()), path + ":5: tls.cert_file: no such file\n");
  EXPECT_FALSE(port_accepts(a.port));
}

TEST(AuthdProcess, HttpErrorsAreJsonWithStableCodes) {
  Appliance a;
  auto keyd = a.start_keyd();
  auto authd = a.start_authd();
  ASSERT_EQ(a.wait_for_status("/auth/v1/health", 200).status, 200);
  const std::string base = "https://localhost:" + std::to_string(a.port);

  const HttpResult missing = a.get("/auth/v1/nothing-here");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, R"({"code":404,"error_code":"not_found","msg":"no such endpoint"})");
  EXPECT_EQ(missing.headers.at("content-type"), "application/json");
  EXPECT_EQ(missing.headers.at("x-request-id").size(), 16u);

  const HttpResult wrong_method = https_request("DELETE", base + "/auth/v1/health", a.cert_file);
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_NE(wrong_method.body.find("\"error_code\":\"method_not_allowed\""), std::string::npos);

  const HttpResult too_big = https_request("POST", base + "/auth/v1/health", a.cert_file, std::string(70000, 'x'),
                                           {"Content-Type: application/json"});
  EXPECT_EQ(too_big.status, 413);
  EXPECT_NE(too_big.body.find("\"error_code\":\"request_too_large\""), std::string::npos);

  const HttpResult huge_header =
      https_request("GET", base + "/auth/v1/health", a.cert_file, "", {"X-Filler: " + std::string(9000, 'a')});
  EXPECT_EQ(huge_header.status, 431);
  // The server is still fine afterwards.
  EXPECT_EQ(a.get("/auth/v1/health").status, 200);
}

TEST(AuthdProcess, RefusesPlainHttpAndOldTls) {
  Appliance a(false);
  auto authd = a.start_authd();
  ASSERT_EQ(a.wait_for_status("/auth/v1/health", 503).status, 503);
  const auto [code, out] = run_command({"/usr/bin/curl", "-sS", "-m", "5", "http://127.0.0.1:" + std::to_string(a.port) + "/auth/v1/health"});
  EXPECT_NE(code, 0) << out;
  const auto [code11, out11] = run_command({"/usr/bin/curl", "-sS", "-m", "5", "--cacert", a.cert_file, "--tlsv1.1",
                                            "--tls-max", "1.1", "https://localhost:" + std::to_string(a.port) + "/auth/v1/health"});
  EXPECT_NE(code11, 0) << out11;
}

}  // namespace
}  // namespace orbitnest::test
