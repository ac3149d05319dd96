// Reload (#14 item 3): SIGHUP re-reads authd.yaml. What can change without
// rebinding changes (TLS files, limits, log level), what cannot is named
// and keeps running, a file that does not validate changes nothing — and
// no connection is dropped.
#include <gtest/gtest.h>

#include <csignal>
#include <thread>

#include "tests/support/authd_session.h"
#include "tests/support/tls_connection.h"

namespace orbitnest::test {
namespace {

class AuthdReload : public ::testing::Test {
 protected:
  void SetUp() override {
    keyd = a.start_keyd();
    config = a.write_config("authd.yaml", a.authd_yaml());
    authd = a.start_authd({}, config);
    ASSERT_EQ(a.wait_for_status("/auth/v1/health", 200).status, 200) << read_file(authd->log_file());
  }
  // SIGHUP, then the log line the reload ends with (after `seen` of them).
  bool reload_and_wait(const std::string& event, int seen) {
    ::kill(authd->pid(), SIGHUP);
    for (int i = 0; i < 100; ++i) {
      const std::string log = read_file(authd->log_file());
      int count = 0;
      for (std::size_t at = log.find(event); at != std::string::npos; at = log.find(event, at + 1)) {
        ++count;
      }
      if (count > seen) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  // `text` with the rest of the line after `key` replaced (no std::regex:
  // GCC 12's sanitizer build warns inside it).
  static std::string with(std::string text, const std::string& key, const std::string& value) {
    const std::size_t at = text.find(key);
    if (at != std::string::npos) {
      const std::size_t end = text.find('\n', at);
      text.replace(at, end - at, key + value);
    }
    return text;
  }
  static std::string request() { return "GET /auth/v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n"; }

  Appliance a;
  std::unique_ptr<ChildProcess> keyd;
  std::unique_ptr<ChildProcess> authd;
  std::string config;
};

TEST_F(AuthdReload, ChangesWhatItCanNamesTheRestAndDropsNothing) {
  // A connection open across the reload.
  TlsConnection kept(a.port, a.cert_file);
  ASSERT_TRUE(kept.ok());
  ASSERT_TRUE(kept.send(request()));
  ASSERT_TRUE(kept.read_response().has_value());

  // A new certificate, a quieter log, other limits, and a new port (which
  // needs a restart).
  const std::string new_cert = a.dir.file("new.crt");
  const std::string new_key = a.dir.file("new.key");
  ASSERT_EQ(run_command({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                         "-nodes", "-days", "2", "-subj", "/CN=localhost", "-addext",
                         "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", new_key, "-out", new_cert})
                .first,
            0);
  ::chmod(new_key.c_str(), 0600);
  std::string text = a.authd_yaml();
  text = with(text, "cert_file: ", new_cert);
  text = with(text, "key_file: ", new_key);
  text = with(text, "level: ", "notice");
  text = with(text, "port: ", std::to_string(free_tcp_port()));  // the first port: listen's
  text = with(text, "drain_timeout_seconds: ", "5\n  max_connections: 500");
  write_file(config, text);
  ASSERT_TRUE(reload_and_wait("authd.reloaded", 0)) << read_file(authd->log_file());
  const std::string log = read_file(authd->log_file());
  EXPECT_NE(log.find("authd.reload_needs_restart"), std::string::npos);
  EXPECT_NE(log.find("listen"), std::string::npos);

  // New connections get the new certificate; the old port still serves.
  EXPECT_EQ(https_request("GET", "https://localhost:" + std::to_string(a.port) + "/auth/v1/health", new_cert).status, 200);
  EXPECT_EQ(https_request("GET", "https://localhost:" + std::to_string(a.port) + "/auth/v1/health", a.cert_file).status, 0);
  // The connection opened before goes on.
  ASSERT_TRUE(kept.send(request()));
  EXPECT_TRUE(kept.read_response().has_value());
  // Log level notice: no more info lines (the request log is info).
  const std::size_t before = read_file(authd->log_file()).size();
  EXPECT_EQ(https_request("GET", "https://localhost:" + std::to_string(a.port) + "/auth/v1/health", new_cert).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(read_file(authd->log_file()).substr(before).find("authd.request"), std::string::npos);

  // A file that does not validate: refused, with the reason; nothing changes.
  write_file(config, text + "no_such_key: 1\n");
  ASSERT_TRUE(reload_and_wait("authd.reload_refused", 0)) << read_file(authd->log_file());
  EXPECT_NE(read_file(authd->log_file()).find("no_such_key"), std::string::npos);
  EXPECT_EQ(https_request("GET", "https://localhost:" + std::to_string(a.port) + "/auth/v1/health", new_cert).status, 200);
  // TLS files that do not load: refused too, the running certificate kept.
  write_file(config, with(text, "cert_file: ", a.dir.file("new.key")));
  ASSERT_TRUE(reload_and_wait("authd.tls_reload_failed", 0)) << read_file(authd->log_file());
  EXPECT_EQ(https_request("GET", "https://localhost:" + std::to_string(a.port) + "/auth/v1/health", new_cert).status, 200);
  EXPECT_TRUE(authd->running());
}

}  // namespace
}  // namespace orbitnest::test
