#include "tests/support/daemon_fixture.h"

#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <random>
#include <stdexcept>
#include <thread>

#include "systemd/unique_fd.h"

namespace orbitnest::test {

namespace {

// The first port the kernel hands out to outgoing connections: a listening
// port below it never collides with a client's ephemeral port (tests that
// open thousands of connections used to take ports picked for a daemon).
int ephemeral_port_floor() {
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 32768;
  range >> low;
  return low;
}

bool bindable(int port) {
  const UniqueFd fd(::socket(AF_INET, SOCK_STREAM, 0));
  const int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  return ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
}

}  // namespace

int free_tcp_port() {
  // Below the ephemeral range, at random (tests run in parallel, each
  // picking its own), and free now.
  static thread_local std::mt19937 rng(std::random_device{}());
  const int high = ephemeral_port_floor();
  const int low = std::max(1024, high - 12000);
  std::uniform_int_distribution<int> pick(low, high - 1);
  for (int i = 0; i < 1000; ++i) {
    const int port = pick(rng);
    if (bindable(port)) {
      return port;
    }
  }
  throw std::runtime_error("cannot find a free port");
}

std::string current_user_name() {
  const passwd* pw = ::getpwuid(::geteuid());
  if (pw == nullptr) {
    throw std::runtime_error("current uid has no name");
  }
  return pw->pw_name;
}

bool wait_for_socket(const std::string& path, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

Appliance::Appliance(bool with_database) : token(dir), port(free_tcp_port()), admin_port(free_tcp_port()) {
  if (with_database) {
    db.emplace();
  }
  cert_file = dir.file("tls.crt");
  key_file = dir.file("tls.key");
  const auto [code, output] =
      run_command({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                   "-nodes", "-days", "2", "-subj", "/CN=localhost", "-addext",
                   "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key_file, "-out", cert_file});
  if (code != 0) {
    throw std::runtime_error("openssl req failed: " + output);
  }
  ::chmod(key_file.c_str(), 0600);
}

Appliance::Appliance(SecondNodeOf node)
    : token(dir, node.first.token),
      cert_file(node.first.cert_file),
      key_file(node.first.key_file),
      port(free_tcp_port()),
      admin_port(free_tcp_port()),
      shared_conninfo(node.first.db ? node.first.db->conninfo() : node.first.shared_conninfo) {}

std::string Appliance::keyd_yaml(const KeydOptions& o) const {
  const std::string user = o.authd_user.empty() ? current_user_name() : o.authd_user;
  return "socket:\n  path: " + keyd_socket() + "\n  mode: \"" + o.socket_mode + "\"\n" +
         "hsm:\n  module: " + kSoftHsmModule + "\n  token_label: " + token.label() + "\n  pin_file: " +
         token.pin_file() + "\n" +
         "state:\n  directory: " + dir.file("keyd-state") + "\n" +
         (o.shared_token ? "  shared: true\n" : "") +
         (o.state_refresh_ms >= 0 ? "  refresh_ms: " + std::to_string(o.state_refresh_ms) + "\n" : "") +
         "audit:\n  file: " + dir.file("audit.log") + "\n  checkpoint_every: " + std::to_string(o.checkpoint_every) +
         "\n" +
         "keyrings:\n  max_token_lifetime_seconds: " + std::to_string(o.max_token_lifetime_seconds) +
         "\n  clock_skew_seconds: " + std::to_string(o.clock_skew_seconds) +
         "\n  admin:\n    issuer: https://localhost/admin\n    algorithm: " + o.admin_algorithm +
         "\n  project:\n    issuer_prefix: https://localhost/projects/\n    algorithm: " + o.project_algorithm + "\n" +
         "rotation:\n  period_days: " + std::to_string(o.period_days) +
         "\n  min_prepublish_seconds: " + std::to_string(o.min_prepublish_seconds) +
         "\n  verify_window_seconds: " + std::to_string(o.verify_window_seconds) + "\n" +
         "clients:\n  authd_user: " + user + "\n" +
         (o.operator_group.empty() ? std::string() : "  operator_group: " + o.operator_group + "\n") +
         "log:\n  level: debug\n";
}

std::string Appliance::authd_yaml() const {
  return "listen:\n  address: 127.0.0.1\n  port: " + std::to_string(port) + "\n" +
         "tls:\n  cert_file: " + cert_file + "\n  key_file: " + key_file + "\n" +
         "keyd:\n  socket_path: " + keyd_socket() + "\n  reconnect_max_backoff_ms: 200\n" +
         "database:\n  conninfo: " +
         (db ? db->conninfo() : !shared_conninfo.empty() ? shared_conninfo : std::string("host=/nonexistent dbname=none")) +
         "\n  pool_size: 4\n" + "http:\n  drain_timeout_seconds: 5\n" + "log:\n  level: debug\n" +
         "admin:\n  listen:\n    address: 127.0.0.1\n    port: " + std::to_string(admin_port) +
         "\n  issuer: https://localhost/admin\n";
}

std::string Appliance::write_config(const std::string& name, const std::string& text) const {
  const std::string path = dir.file(name);
  write_file(path, text);
  return path;
}

std::unique_ptr<ChildProcess> Appliance::start_keyd(SpawnOptions extra, std::string config) const {
  if (config.empty()) {
    config = write_config("keyd.yaml", keyd_yaml());
  }
  extra.argv = {ORBITNEST_KEYD_BIN, "--config", config};
  extra.env.emplace_back("SOFTHSM2_CONF", token.conf_path());
  return std::make_unique<ChildProcess>(std::move(extra));
}

std::unique_ptr<ChildProcess> Appliance::start_authd(SpawnOptions extra, std::string config) const {
  if (config.empty()) {
    config = write_config("authd.yaml", authd_yaml());
  }
  extra.argv = {ORBITNEST_AUTHD_BIN, "--config", config};
  return std::make_unique<ChildProcess>(std::move(extra));
}

HttpResult Appliance::get(const std::string& path) const {
  return https_request("GET", "https://localhost:" + std::to_string(port) + path, cert_file);
}

HttpResult Appliance::wait_for_status(const std::string& path, long status, std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  HttpResult last;
  while (std::chrono::steady_clock::now() < deadline) {
    last = get(path);
    if (last.status == status) {
      return last;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return last;
}

}  // namespace orbitnest::test
