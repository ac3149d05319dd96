#include "tests/support/child_process.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "tests/support/temp_dir.h"

extern char** environ;

namespace orbitnest::test {
namespace {

int decode_status(int status) {
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  if (WIFSIGNALED(status)) {
    return 128 + WTERMSIG(status);
  }
  return -1;
}

bool inherited_from_service_manager(const char* entry) {
  // Never let the test runner's own systemd variables leak into a child.
  for (const char* prefix : {"NOTIFY_SOCKET=", "LISTEN_FDS=", "LISTEN_PID=", "LISTEN_FDNAMES=", "WATCHDOG_USEC=",
                             "WATCHDOG_PID=", "JOURNAL_STREAM=", "CREDENTIALS_DIRECTORY="}) {
    if (std::strncmp(entry, prefix, std::strlen(prefix)) == 0) {
      return true;
    }
  }
  return false;
}

std::atomic<int> g_counter{0};

}  // namespace

ChildProcess::ChildProcess(SpawnOptions options) {
  if (options.log_file.empty()) {
    const std::string base = options.argv.empty() ? "child" : options.argv[0].substr(options.argv[0].rfind('/') + 1);
    options.log_file =
        log_dir() + "/" + current_test_name() + "." + base + "." + std::to_string(g_counter.fetch_add(1)) + ".log";
  }
  m_log_file = options.log_file;
  // Everything the child needs is prepared before fork: after it, only
  // async-signal-safe calls.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!inherited_from_service_manager(*e)) {
      env_strings.emplace_back(*e);
    }
  }
  for (const auto& [k, v] : options.env) {
    env_strings.push_back(k + "=" + v);
  }
  std::vector<char*> argv;
  for (std::string& a : options.argv) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  // Variables that hold the child's pid get a fixed-size slot now, filled
  // in after fork without allocating.
  std::vector<std::size_t> pid_slots;
  for (const std::string& name : options.env_with_child_pid) {
    pid_slots.push_back(env_strings.size());
    env_strings.push_back(name + "=" + std::string(20, '\0'));
  }
  std::vector<char*> envp;
  for (std::string& e : env_strings) {
    envp.push_back(e.data());
  }
  envp.push_back(nullptr);
  std::vector<int> temp(options.fds.size(), -1);
  const int log_fd = ::open(m_log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    throw std::runtime_error("cannot open log file " + m_log_file);
  }
  m_pid = ::fork();
  if (m_pid < 0) {
    ::close(log_fd);
    throw std::runtime_error("fork failed");
  }
  if (m_pid == 0) {
    for (std::size_t i = 0; i < pid_slots.size(); ++i) {
      char* slot = envp[pid_slots[i]] + options.env_with_child_pid[i].size() + 1;
      char digits[20];
      int n = 0;
      for (pid_t v = ::getpid(); v > 0; v /= 10) {
        digits[n++] = static_cast<char>('0' + v % 10);
      }
      for (int j = 0; j < n; ++j) {
        slot[j] = digits[n - 1 - j];
      }
    }
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    const int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    // Move passed fds out of the way first, then into place (no clobbering).
    for (std::size_t i = 0; i < options.fds.size(); ++i) {
      temp[i] = ::fcntl(options.fds[i].first, F_DUPFD, 100);
    }
    for (std::size_t i = 0; i < options.fds.size(); ++i) {
      ::dup2(temp[i], options.fds[i].second);  // dup2 clears FD_CLOEXEC
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (options.gid) {
      ::setgroups(0, nullptr);
      if (::setgid(*options.gid) != 0) {
        ::_exit(126);
      }
    }
    if (options.max_open_files) {
      const rlimit limit{*options.max_open_files, *options.max_open_files};
      if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
        ::_exit(126);
      }
    }
    if (options.uid && ::setuid(*options.uid) != 0) {
      ::_exit(126);
    }
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(log_fd);
}

ChildProcess::~ChildProcess() {
  if (!m_status && m_pid > 0) {
    ::kill(m_pid, SIGKILL);
    int status = 0;
    ::waitpid(m_pid, &status, 0);
  }
}

bool ChildProcess::running() { return !wait_exit(std::chrono::milliseconds(0)).has_value(); }

std::optional<int> ChildProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (m_status) {
    return m_status;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(m_pid, &status, WNOHANG);
    if (r == m_pid) {
      m_status = decode_status(status);
      return m_status;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

int ChildProcess::stop(int signo, std::chrono::milliseconds timeout) {
  if (!m_status) {
    ::kill(m_pid, signo);
    if (!wait_exit(timeout)) {
      ::kill(m_pid, SIGKILL);
      wait_exit(std::chrono::seconds(10));
    }
  }
  return m_status.value_or(-1);
}

std::pair<int, std::string> run_command(const std::vector<std::string>& argv,
                                        const std::vector<std::pair<std::string, std::string>>& env) {
  TempDir dir;
  SpawnOptions opts;
  opts.argv = argv;
  opts.env = env;
  opts.log_file = dir.file("output");
  ChildProcess child(std::move(opts));
  const std::optional<int> code = child.wait_exit(std::chrono::seconds(120));
  return {code.value_or(-1), read_file(dir.file("output"))};
}

}  // namespace orbitnest::test
