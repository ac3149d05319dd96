#pragma once
// One appliance per test: its own folder, SoftHSM2 token, database, TLS
// certificate and port, with helpers that write keyd.yaml / authd.yaml and
// start the real daemons from the build tree.
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "tests/support/child_process.h"
#include "tests/support/https_client.h"
#include "tests/support/softhsm_token.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_database.h"

namespace orbitnest::test {

int free_tcp_port();
std::string current_user_name();

// What a test may change in keyd.yaml.
struct KeydOptions {
  std::string project_algorithm = "ES256";
  std::string admin_algorithm = "ES256";
  std::string authd_user;  // default: the user running the test
  std::string operator_group;
  std::string socket_mode = "0660";
  int max_token_lifetime_seconds = 3600;
  int clock_skew_seconds = 60;
  int min_prepublish_seconds = 0;
  int verify_window_seconds = 7200;
  int checkpoint_every = 100;
  int period_days = 0;
  // Several nodes: other keyd share the token (state.shared).
  bool shared_token = false;
  int state_refresh_ms = -1;  // -1: keyd's default
};

class Appliance final {
 public:
  explicit Appliance(bool with_database = true);
  // A second node of `first`'s appliance: a folder, ports, certificate and
  // audit log of its own, the same SoftHSM2 token folder (its own conf
  // file) and the same database.
  struct SecondNodeOf {
    const Appliance& first;
  };
  explicit Appliance(SecondNodeOf node);

  TempDir dir;
  SoftHsmToken token;
  std::optional<TestDatabase> db;
  std::string cert_file;
  std::string key_file;
  int port;
  int admin_port;  // the admin API's listener
  std::string shared_conninfo;  // a second node's: the first node's database

  std::string keyd_socket() const { return dir.file("keyd.sock"); }
  std::string keyd_yaml(const KeydOptions& o = {}) const;
  std::string authd_yaml() const;
  // Writes the text to a file in the test folder and returns its path.
  std::string write_config(const std::string& name, const std::string& text) const;

  std::unique_ptr<ChildProcess> start_keyd(SpawnOptions extra = {}, std::string config = "") const;
  std::unique_ptr<ChildProcess> start_authd(SpawnOptions extra = {}, std::string config = "") const;

  HttpResult get(const std::string& path) const;
  // Polls GET path until it answers `status`; returns the last result.
  HttpResult wait_for_status(const std::string& path, long status,
                             std::chrono::milliseconds timeout = std::chrono::seconds(15)) const;
};

// Waits until a Unix socket at `path` accepts connections.
bool wait_for_socket(const std::string& path, std::chrono::milliseconds timeout);

}  // namespace orbitnest::test
