// keyd as a process: readiness, stopping and watchdog notifications,
// socket activation, HSM failures, bad config, malformed frames.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <thread>

#include "config/config_error.h"
#include "keyd/client/keyd_connection.h"
#include "tests/support/daemon_fixture.h"
#include "tests/support/notify_socket.h"

namespace orbitnest::test {
namespace {

using namespace std::chrono_literals;

UniqueFd connect_seqpacket(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    throw std::runtime_error("connect failed");
  }
  return fd;
}

std::string keydctl_status(const Appliance& a, int* code) {
  const auto [rc, out] = run_command({ORBITNEST_KEYDCTL_BIN, "--socket", a.keyd_socket(), "status"});
  *code = rc;
  return out;
}

TEST(KeydProcess, ReadyAfterHsmLoginAndStoppingOnSigterm) {
  Appliance a(false);
  NotifySocket notify(a.dir.file("notify.sock"));
  SpawnOptions opts;
  opts.env = {{"NOTIFY_SOCKET", notify.path()}};
  auto keyd = a.start_keyd(opts);
  const std::string ready = notify.wait_for("READY=1", 15s);
  ASSERT_NE(ready, "") << read_file(keyd->log_file());
  EXPECT_NE(ready.find("STATUS=serving token " + a.token.label()), std::string::npos) << ready;
  int code = -1;
  EXPECT_NE(keydctl_status(a, &code).find("ready (ok)"), std::string::npos);
  EXPECT_EQ(code, 0);
  ::kill(keyd->pid(), SIGTERM);
  EXPECT_NE(notify.wait_for("STOPPING=1", 10s), "");
  EXPECT_EQ(keyd->wait_exit(10s), 0);
}

TEST(KeydProcess, WrongPinStaysUpNotReadyAndNeverLogsThePin) {
  Appliance a(false);
  const std::string wrong = "wrong-" + random_hex(6);
  record_secret(wrong);
  write_file(a.token.pin_file(), wrong + "\n", 0600);
  NotifySocket notify(a.dir.file("notify.sock"));
  SpawnOptions opts;
  opts.env = {{"NOTIFY_SOCKET", notify.path()}};
  auto keyd = a.start_keyd(opts);
  ASSERT_TRUE(wait_for_socket(a.keyd_socket(), 10s));
  EXPECT_EQ(notify.wait_for("READY=1", 1500ms), "");
  int code = -1;
  const std::string status = keydctl_status(a, &code);
  EXPECT_EQ(code, 1) << status;
  EXPECT_NE(status.find("NOT READY"), std::string::npos) << status;
  EXPECT_NE(status.find("CKR_PIN_INCORRECT"), std::string::npos) << status;
  EXPECT_TRUE(keyd->running());
  const std::string log = read_file(keyd->log_file());
  EXPECT_NE(log.find("keyd.hsm_unavailable"), std::string::npos);
  EXPECT_NE(log.find("will_retry=false"), std::string::npos) << "a wrong PIN must not be retried (token lockout)";
  EXPECT_EQ(log.find(wrong), std::string::npos);
}

TEST(KeydProcess, MissingTokenIsRetriedAndKeydStaysUp) {
  Appliance a(false);
  std::string yaml = a.keyd_yaml();
  yaml.replace(yaml.find("token_label: " + a.token.label()), 13 + a.token.label().size(), "token_label: absent");
  auto keyd = a.start_keyd({}, a.write_config("keyd-absent.yaml", yaml));
  ASSERT_TRUE(wait_for_socket(a.keyd_socket(), 10s));
  int code = -1;
  const std::string status = keydctl_status(a, &code);
  EXPECT_EQ(code, 1);
  EXPECT_NE(status.find("no PKCS#11 token labelled 'absent'"), std::string::npos) << status;
  EXPECT_TRUE(keyd->running());
  EXPECT_NE(read_file(keyd->log_file()).find("will_retry=true"), std::string::npos);
}

TEST(KeydProcess, ServesTheSocketSystemdPasses) {
  Appliance a(false);
  // keyd's own path points nowhere usable: it must use the passed socket.
  std::string yaml = a.keyd_yaml();
  yaml.replace(yaml.find(a.keyd_socket()), a.keyd_socket().size(), "/nonexistent/dir/keyd.sock");
  const std::string passed_path = a.dir.file("activated.sock");
  UniqueFd listener(::socket(AF_UNIX, SOCK_SEQPACKET, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, passed_path.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(listener.get(), 8), 0);
  SpawnOptions opts;
  opts.fds = {{listener.get(), 3}};
  opts.env = {{"LISTEN_FDS", "1"}};
  opts.env_with_child_pid = {"LISTEN_PID"};
  auto keyd = a.start_keyd(opts, a.write_config("keyd-activated.yaml", yaml));
  listener.reset();  // keyd holds it now
  keyd::Frame status;
  for (int i = 0; i < 100; ++i) {
    try {
      keyd::KeydConnection conn(passed_path, 2000ms);
      status = conn.call(keyd::Op::status, {}, {keyd::Status::not_ready});
      if (status.status == keyd::Status::ok) {
        break;
      }
    } catch (const std::exception&) {
    }
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(status.status, keyd::Status::ok) << read_file(keyd->log_file());
  EXPECT_NE(read_file(keyd->log_file()).find("socket=systemd"), std::string::npos);
}

TEST(KeydProcess, FeedsTheWatchdogFromItsLoop) {
  Appliance a(false);
  NotifySocket notify(a.dir.file("notify.sock"));
  SpawnOptions opts;
  opts.env = {{"NOTIFY_SOCKET", notify.path()}, {"WATCHDOG_USEC", "200000"}};
  opts.env_with_child_pid = {"WATCHDOG_PID"};
  auto keyd = a.start_keyd(opts);
  ASSERT_NE(notify.wait_for("READY=1", 15s), "");
  for (int i = 0; i < 3; ++i) {
    EXPECT_NE(notify.wait_for("WATCHDOG=1", 1s), "") << "watchdog ping " << i;
  }
}

TEST(KeydProcess, BadConfigExits78WithOneLine) {
  Appliance a(false);
  const std::string path = a.write_config("keyd-bad.yaml", a.keyd_yaml() + "surprise: true\n");
  auto keyd = a.start_keyd({}, path);
  EXPECT_EQ(keyd->wait_exit(10s), config::kExitConfig);
  EXPECT_EQ(read_file(keyd->log_file()), path + ":30: surprise: unknown key\n");
  struct stat st {};
  EXPECT_NE(::stat(a.keyd_socket().c_str(), &st), 0) << "keyd bound its socket before validating config";
}

TEST(KeydProcess, MalformedAndOversizeFramesCloseOnlyThatConnection) {
  Appliance a(false);
  auto keyd = a.start_keyd();
  ASSERT_TRUE(wait_for_socket(a.keyd_socket(), 10s));
  {
    const UniqueFd fd = connect_seqpacket(a.keyd_socket());
    const char junk[] = {1, 0, 0};
    ASSERT_EQ(::send(fd.get(), junk, sizeof(junk), 0), 3);
    std::vector<std::uint8_t> buf(keyd::kMaxFrameBytes);
    const ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
    ASSERT_GT(n, 0);
    EXPECT_EQ(keyd::decode_frame(std::span<const std::uint8_t>(buf.data(), static_cast<std::size_t>(n))).status,
              keyd::Status::bad_frame);
    EXPECT_EQ(::recv(fd.get(), buf.data(), buf.size(), 0), 0) << "connection should be closed";
  }
  {
    const UniqueFd fd = connect_seqpacket(a.keyd_socket());
    const std::vector<char> huge(keyd::kMaxFrameBytes + 100, 'x');
    // The socket buffer may be smaller than the frame; the kernel then
    // refuses it and keyd never sees it, which is fine as well.
    if (::send(fd.get(), huge.data(), huge.size(), 0) > 0) {
      std::vector<std::uint8_t> buf(keyd::kMaxFrameBytes);
      const ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
      ASSERT_GT(n, 0);
      EXPECT_EQ(keyd::decode_frame(std::span<const std::uint8_t>(buf.data(), static_cast<std::size_t>(n))).status,
                keyd::Status::bad_frame);
    }
  }
  // keyd is still up and serves a well-behaved client.
  keyd::KeydConnection conn(a.keyd_socket(), 2000ms);
  EXPECT_NO_THROW(conn.call(keyd::Op::status, {}, {keyd::Status::not_ready}));
  EXPECT_TRUE(keyd->running());
}

}  // namespace
}  // namespace orbitnest::test
