#pragma once
// Runs a test body in a forked child as another uid (the test runs as
// root), so that keyd sees that uid in SO_PEERCRED. The body returns the
// child's exit code; an exception is 102, a failed setuid 100.
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

namespace orbitnest::test {

inline constexpr uid_t kNobody = 65534;

template <typename F>
int as_user(uid_t uid, F body) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setgroups(0, nullptr);
    if (::setgid(kNobody) != 0 || ::setuid(uid) != 0) {
      ::_exit(100);
    }
    int code = 101;
    try {
      code = body();
    } catch (...) {
      code = 102;
    }
    ::_exit(code);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace orbitnest::test
