#pragma once
// What a test may read about a running daemon from /proc: its resident
// memory, its CPU time and how many file descriptors it holds.
#include <sys/types.h>

#include <chrono>
#include <string>

namespace orbitnest::test {

// VmRSS in KiB (0 if the process is gone).
long rss_kib(pid_t pid);
// User plus system CPU time the process has used so far.
std::chrono::milliseconds cpu_time(pid_t pid);
// Open file descriptors.
int open_fds(pid_t pid);
// Lines in a file (a daemon's log).
std::size_t line_count(const std::string& path);

}  // namespace orbitnest::test
