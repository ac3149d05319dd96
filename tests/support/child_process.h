#pragma once
// A child process for integration tests: exact environment, chosen file
// descriptors at chosen numbers (socket activation), variables that must
// hold the child's own pid (LISTEN_PID, WATCHDOG_PID), output to a log
// file. Killed and reaped on destruction.
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace orbitnest::test {

struct SpawnOptions {
  std::vector<std::string> argv;
  std::vector<std::pair<std::string, std::string>> env;  // added to ours
  std::vector<std::string> env_with_child_pid;            // NAME=<child pid>
  std::vector<std::pair<int, int>> fds;                   // our fd -> child fd number
  std::string log_file;                                   // default: per test in log_dir()
  std::optional<uid_t> uid;                               // run as this user (from root)
  std::optional<gid_t> gid;
  std::optional<unsigned long> max_open_files;            // RLIMIT_NOFILE, soft and hard
};

class ChildProcess final {
 public:
  explicit ChildProcess(SpawnOptions options);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return m_pid; }
  const std::string& log_file() const { return m_log_file; }
  bool running();
  // Exit code, or 128+signal; nullopt if still running after `timeout`.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  // Sends `signo` and waits; SIGKILL after `timeout`.
  int stop(int signo = 15, std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  pid_t m_pid = -1;
  std::optional<int> m_status;
  std::string m_log_file;
};

// Runs a command to completion; returns exit code (128+signal) and output.
std::pair<int, std::string> run_command(const std::vector<std::string>& argv,
                                        const std::vector<std::pair<std::string, std::string>>& env = {});

}  // namespace orbitnest::test
