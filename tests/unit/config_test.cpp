// Strict config validation: each kind of bad config is refused with one
// line naming the file, the line and the key path.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "config/authd_config.h"
#include "config/config_error.h"
#include "config/keyd_config.h"
#include "tests/support/temp_dir.h"

namespace orbitnest::config {
namespace {

using test::TempDir;
using test::write_file;

class AuthdConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cert = dir.file("tls.crt");
    key = dir.file("tls.key");
    write_file(cert, "cert");
    write_file(key, "key", 0600);
  }
  // A valid file; `extra` is appended at the end.
  std::string valid(const std::string& extra = "") const {
    return "listen:\n"
           "  address: 127.0.0.1\n"
           "  port: 8443\n"
           "tls:\n"
           "  cert_file: " + cert + "\n"
           "  key_file: " + key + "\n"
           "keyd:\n"
           "  socket_path: /run/orbitnest/keyd.sock\n"
           "database:\n"
           "  conninfo: host=/run/postgresql dbname=orbitnest\n" + extra;
  }
  // Parses and returns the error line ("" if it parsed).
  static std::string error_of(const std::string& text) {
    try {
      (void)parse_authd_config(text, "authd.yaml");
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  }
  TempDir dir;
  std::string cert;
  std::string key;
};

TEST_F(AuthdConfigTest, ValidFileLoadsWithDefaults) {
  const AuthdConfig cfg = parse_authd_config(valid(), "authd.yaml");
  EXPECT_EQ(cfg.listen.port, 8443);
  EXPECT_EQ(cfg.tls.cert_file, cert);
  EXPECT_EQ(cfg.tls.min_version, "1.2");
  EXPECT_EQ(cfg.http.body_limit_bytes, 65536);
  EXPECT_EQ(cfg.workers.queue_limit, 256);
  EXPECT_EQ(cfg.workers.max_queue_wait_ms, 200);
  EXPECT_EQ(cfg.passwords.max_concurrent_hashes, 0);
  EXPECT_EQ(cfg.log_level, "info");
}

TEST_F(AuthdConfigTest, MissingCertFileNamesFileLineAndKey) {
  std::string text = valid();
  text.replace(text.find(cert), cert.size(), "/nonexistent/tls.crt");
  EXPECT_EQ(error_of(text), "authd.yaml:5: tls.cert_file: no such file");
}

TEST_F(AuthdConfigTest, TheAdminApiHasAListenerOfItsOwn) {
  const AuthdConfig cfg = parse_authd_config(valid(), "authd.yaml");
  EXPECT_TRUE(cfg.admin.enabled);
  EXPECT_EQ(cfg.admin.listen.address, "127.0.0.1");
  EXPECT_EQ(cfg.admin.listen.port, 8444);
  EXPECT_EQ(cfg.admin.access_token_ttl_seconds, 900);
  // The project API's port, on the same address or behind a wildcard: refused.
  EXPECT_EQ(error_of(valid("admin:\n  listen:\n    port: 8443\n")),
            "authd.yaml:13: admin.listen.port: must differ from listen.port: the admin API has a listener of its own");
  EXPECT_NE(error_of(valid("admin:\n  listen:\n    address: 0.0.0.0\n    port: 8443\n")), "");
  EXPECT_EQ(error_of(valid("admin:\n  listen:\n    address: 127.0.0.2\n    port: 8443\n")), "");
  EXPECT_EQ(error_of(valid("admin:\n  enabled: false\n  listen:\n    port: 8443\n")), "");
  // No project database role for admins, no long-lived admin tokens.
  EXPECT_NE(error_of(valid("admin:\n  role: service_role\n")), "");
  EXPECT_NE(error_of(valid("admin:\n  access_token_ttl_seconds: 3600\n")), "");
  EXPECT_NE(error_of(valid("admin:\n  password_min_length: 8\n")), "");
}

TEST_F(AuthdConfigTest, SocialSignInProvidersAreCheckedAtStart) {
  const std::string secret = dir.file("google.secret");
  write_file(secret, "s3cret\n", 0600);
  const auto oauth = [&](const std::string& provider_extra, const std::string& oauth_extra = "") {
    return valid("admin:\n  oauth:\n    callback_url: https://admin.example/admin/v1/callback\n"
                 "    redirect_urls: [\"https://admin.example/studio\"]\n" + oauth_extra +
                 "    providers:\n      google:\n        issuer: https://accounts.google.com\n"
                 "        client_id: abc.apps.googleusercontent.com\n        client_secret_file: " + secret + "\n" +
                 provider_extra);
  };
  const AuthdConfig cfg = parse_authd_config(oauth(""), "authd.yaml");
  ASSERT_EQ(cfg.admin.oauth.providers.size(), 1u);
  EXPECT_EQ(cfg.admin.oauth.providers[0].name, "google");
  EXPECT_EQ(cfg.admin.oauth.providers[0].scopes, (std::vector<std::string>{"openid", "email", "profile"}));
  EXPECT_TRUE(cfg.admin.oauth.signup_domains.empty());  // sign-up off by default
  EXPECT_NE(error_of(oauth("        scopes: [email]\n")).find("must include openid"), std::string::npos);
  EXPECT_NE(error_of(oauth("        colour: blue\n")).find("unknown key"), std::string::npos);
  std::string http = oauth("");
  http.replace(http.find("https://accounts.google.com"), 8, "http://");
  EXPECT_NE(error_of(http).find("issuer"), std::string::npos);
  // The client secret's file is a secret file.
  ::chmod(secret.c_str(), 0644);
  EXPECT_NE(error_of(oauth("")).find("client_secret_file"), std::string::npos);
  ::chmod(secret.c_str(), 0600);
  // Providers need a callback and somewhere to send the browser back.
  EXPECT_NE(error_of(valid("admin:\n  oauth:\n    providers:\n      google:\n        issuer: https://accounts.google.com\n"
                           "        client_id: x\n        client_secret_file: " + secret + "\n"))
                .find("callback_url"),
            std::string::npos);
  EXPECT_NE(error_of(oauth("", "    signup_domains: [\"@example.com\"]\n")).find("signup_domains"), std::string::npos);
  // GitHub: no issuer (no OpenID), its endpoints by default, https only.
  const auto github = [&](const std::string& extra) {
    return valid("admin:\n  oauth:\n    callback_url: https://admin.example/admin/v1/callback\n"
                 "    redirect_urls: [\"https://admin.example/studio\"]\n"
                 "    providers:\n      github:\n        kind: github\n        client_id: Iv1.abc\n"
                 "        client_secret_file: " + secret + "\n" + extra);
  };
  const AuthdConfig gh = parse_authd_config(github(""), "authd.yaml");
  ASSERT_EQ(gh.admin.oauth.providers.size(), 1u);
  EXPECT_EQ(gh.admin.oauth.providers[0].kind, "github");
  EXPECT_EQ(gh.admin.oauth.providers[0].api_base, "https://api.github.com");
  EXPECT_EQ(gh.admin.oauth.providers[0].scopes, (std::vector<std::string>{"read:user", "user:email"}));
  EXPECT_NE(error_of(github("        api_base: http://api.github.com\n")).find("api_base"), std::string::npos);
  std::string gitlab = github("");
  gitlab.replace(gitlab.find("kind: github"), 12, "kind: gitlab");
  EXPECT_NE(error_of(gitlab).find("kind"), std::string::npos);
}

TEST_F(AuthdConfigTest, UnknownTopLevelKey) {
  EXPECT_EQ(error_of(valid("colour: blue\n")), "authd.yaml:11: colour: unknown key");
}

TEST_F(AuthdConfigTest, UnknownNestedKey) {
  EXPECT_EQ(error_of(valid("http:\n  body_limit: 10\n")), "authd.yaml:12: http.body_limit: unknown key");
}

TEST_F(AuthdConfigTest, WrongType) {
  EXPECT_EQ(error_of(valid("http:\n  io_threads: many\n")),
            "authd.yaml:12: http.io_threads: expected an integer, got 'many'");
  EXPECT_EQ(error_of(valid("http:\n  io_threads: [1, 2]\n")), "authd.yaml:12: http.io_threads: expected an integer");
  EXPECT_EQ(error_of(valid("workers: 3\n")), "authd.yaml:11: workers: expected a mapping");
}

TEST_F(AuthdConfigTest, MissingRequiredValue) {
  std::string text = valid();
  text.erase(text.find("database:"));
  EXPECT_EQ(error_of(text), "authd.yaml: database.conninfo: required value is missing");
  EXPECT_EQ(error_of(text + "database:\n  pool_size: 2\n"), "authd.yaml:9: database.conninfo: required value is missing");
}

TEST_F(AuthdConfigTest, OutOfRangeNumber) {
  std::string text = valid();
  text.replace(text.find("8443"), 4, "70000");
  EXPECT_EQ(error_of(text), "authd.yaml:3: listen.port: must be between 1 and 65535, got 70000");
  EXPECT_EQ(error_of(valid("workers:\n  threads: 0\n")),
            "authd.yaml:12: workers.threads: must be between 1 and 256, got 0");
  EXPECT_EQ(error_of(valid("workers:\n  max_queue_wait_ms: 5\n")),
            "authd.yaml:12: workers.max_queue_wait_ms: must be between 10 and 60000, got 5");
}

TEST_F(AuthdConfigTest, BadChoiceAndBadAddress) {
  EXPECT_EQ(error_of(valid("log:\n  level: chatty\n")),
            "authd.yaml:12: log.level: must be one of debug, info, notice, warning, error, got 'chatty'");
  std::string text = valid();
  text.replace(text.find("127.0.0.1"), 9, "localhost");
  EXPECT_EQ(error_of(text), "authd.yaml:2: listen.address: must be an IPv4 or IPv6 address, got 'localhost'");
}

TEST_F(AuthdConfigTest, SyntaxErrorAndDuplicateKey) {
  EXPECT_EQ(error_of("listen:\n  port: [1\n").rfind("authd.yaml:", 0), 0u);
  EXPECT_NE(error_of("listen:\n  port: [1\n").find("YAML syntax error"), std::string::npos);
  EXPECT_EQ(error_of(valid("listen:\n  port: 1\n")), "authd.yaml:11: listen: duplicate key");
  EXPECT_EQ(error_of("- a\n- b\n"), "authd.yaml:1: the top level must be a mapping of sections");
}

TEST_F(AuthdConfigTest, SecretsAreRefusedWhereTheyLeak) {
  write_file(key, "key", 0644);
  EXPECT_EQ(error_of(valid()),
            "authd.yaml:6: tls.key_file: holds a secret but group or others can access it (mode 0644); make it 0600");
  write_file(key, "key", 0600);
  std::string text = valid();
  text.replace(text.find("dbname=orbitnest"), 16, "dbname=orbitnest password=hunter2");
  EXPECT_EQ(error_of(text), "authd.yaml:10: database.conninfo: must not hold a password; use database.password_file");
}

// Schemas are exposed per project now (project setting exposed_schemas):
// the old key is refused with where it went, never silently ignored.
TEST_F(AuthdConfigTest, ExposedSchemasMovedToTheProjectSetting) {
  EXPECT_NE(error_of(valid("rest:\n  exposed_schemas: [public]\n"))
                .find("authd.yaml:12: rest.exposed_schemas: moved to the project setting exposed_schemas"),
            std::string::npos);
}

TEST_F(AuthdConfigTest, RpcLogsInAsItsOwnRole) {
  const AuthdConfig defaults = parse_authd_config(valid(), "authd.yaml");
  EXPECT_EQ(defaults.rest.conninfo, defaults.database.conninfo + " user=orbitnest_rpc");
  EXPECT_EQ(defaults.rest.statement_timeout_ms, 8000);
  const AuthdConfig own =
      parse_authd_config(valid("rest:\n  conninfo: dbname=x user=rpc\n  statement_timeout_ms: 500\n"),
                                 "authd.yaml");
  EXPECT_EQ(own.rest.conninfo, "dbname=x user=rpc");
  EXPECT_EQ(own.rest.statement_timeout_ms, 500);
  EXPECT_NE(error_of(valid("rest:\n  conninfo: dbname=x password=hunter2\n")).find("must not hold a password"),
            std::string::npos);
  EXPECT_NE(error_of(valid("rest:\n  statement_timeout_ms: 0\n")).find("rest.statement_timeout_ms"),
            std::string::npos);
}

TEST_F(AuthdConfigTest, LoadFileReportsUnreadableFile) {
  try {
    (void)load_authd_config(dir.file("absent.yaml"));
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), dir.file("absent.yaml") + ": cannot open config file");
  }
}

class KeydConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pin = dir.file("pin");
    module = dir.file("module.so");
    write_file(pin, "1234\n", 0600);
    write_file(module, "not really a module");
  }
  std::string valid(const std::string& hsm_extra = "") const {
    return "hsm:\n"
           "  module: " + module + "\n"
           "  token_label: orbitnest\n"
           "  pin_file: " + pin + "\n" + hsm_extra +
           "state:\n  directory: /var/lib/orbitnest-keyd\n"
           "audit:\n  file: /var/log/orbitnest-keyd/audit.log\n"
           "clients:\n  authd_user: root\n"
           "keyrings:\n  admin:\n    issuer: https://a/admin\n  project:\n    issuer_prefix: https://a/projects/\n";
  }
  static std::string error_of(const std::string& text) {
    try {
      (void)parse_keyd_config(text, "keyd.yaml");
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  }
  TempDir dir;
  std::string pin;
  std::string module;
};

TEST_F(KeydConfigTest, ValidFileResolvesUsers) {
  const KeydConfig cfg = parse_keyd_config(valid(), "keyd.yaml");
  EXPECT_EQ(cfg.clients.authd_uid, 0u);
  EXPECT_EQ(cfg.socket.mode, 0660u);
  EXPECT_EQ(cfg.hsm.sessions, 4);
  EXPECT_EQ(cfg.hsm.pin_file, pin);
}

TEST_F(KeydConfigTest, PinSources) {
  EXPECT_EQ(error_of(valid("  pin_credential: hsm-pin\n")),
            "keyd.yaml:4: hsm.pin_file: set exactly one of hsm.pin_credential and hsm.pin_file");
  write_file(pin, "1234\n", 0640);
  EXPECT_EQ(error_of(valid()),
            "keyd.yaml:4: hsm.pin_file: holds a secret but group or others can access it (mode 0640); make it 0600");
}

TEST_F(KeydConfigTest, UnknownUserAndBadSocketMode) {
  std::string text = valid();
  text.replace(text.find("authd_user: root"), 16, "authd_user: no-such-user-here");
  EXPECT_EQ(error_of(text), "keyd.yaml:10: clients.authd_user: no such user 'no-such-user-here'");
  EXPECT_EQ(error_of(valid() + "socket:\n  mode: \"0777\"\n"), "keyd.yaml:17: socket.mode: a socket needs no execute bits");
  EXPECT_EQ(error_of(valid() + "socket:\n  mode: rw\n"),
            "keyd.yaml:17: socket.mode: expected an octal mode like \"0660\", got 'rw'");
}

TEST_F(KeydConfigTest, ModuleMustExistAndLabelFitsPkcs11) {
  std::string text = valid();
  text.replace(text.find(module), module.size(), "/nonexistent/libsofthsm2.so");
  EXPECT_EQ(error_of(text), "keyd.yaml:2: hsm.module: no such file");
  text = valid();
  text.replace(text.find("orbitnest\n"), 9, std::string(33, 'x'));
  EXPECT_EQ(error_of(text), "keyd.yaml:3: hsm.token_label: PKCS#11 token labels are at most 32 bytes");
}

}  // namespace
}  // namespace orbitnest::config

namespace orbitnest::config {
namespace {

// The example files in config/ are valid once their paths exist: they stay
// in step with the loaders.
TEST(ExampleConfigs, LoadWhenTheirFilesExist) {
  test::TempDir dir;
  test::write_file(dir.file("c"), "cert");
  test::write_file(dir.file("k"), "key", 0600);
  test::write_file(dir.file("m"), "module");
  std::string authd = test::read_file(std::string(ORBITNEST_SOURCE_DIR) + "/config/authd.yaml");
  authd.replace(authd.find("/etc/orbitnest/tls/tls.crt"), 26, dir.file("c"));
  authd.replace(authd.find("/run/credentials/authd.service/tls-key"), 38, dir.file("k"));
  const AuthdConfig a = parse_authd_config(authd, "authd.yaml");
  EXPECT_EQ(a.listen.port, 8443);
  EXPECT_EQ(a.keyd.socket_path, "/run/orbitnest/keyd.sock");

  std::string keyd = test::read_file(std::string(ORBITNEST_SOURCE_DIR) + "/config/keyd.yaml");
  keyd.replace(keyd.find("/usr/lib/softhsm/libsofthsm2.so"), 31, dir.file("m"));
  keyd.replace(keyd.find("authd_user: orbitnest-authd"), 27, "authd_user: root");
  keyd.replace(keyd.find("operator_group: orbitnest-operators"), 35, "operator_group: root");
  const KeydConfig k = parse_keyd_config(keyd, "keyd.yaml");
  EXPECT_EQ(k.hsm.pin_credential, "hsm-pin");
  EXPECT_EQ(k.clients.operator_gid, 0u);
}

}  // namespace
}  // namespace orbitnest::config
