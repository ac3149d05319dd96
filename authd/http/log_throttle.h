#pragma once
// A recurring warning (accept failing at the open-files limit, connections
// refused under a flood) is logged at most once per interval; the line
// that is logged says how many were left out. Without it a flood of
// events becomes a flood of log lines. Thread-safe.
#include <chrono>
#include <cstdint>
#include <mutex>

namespace orbitnest::authd {

class LogThrottle final {
 public:
  explicit LogThrottle(std::chrono::milliseconds interval) : m_interval(interval) {}

  // True when this occurrence is to be logged; then *suppressed holds how
  // many were not since the last one that was.
  bool should_log(std::int64_t* suppressed) {
    const auto now = std::chrono::steady_clock::now();
    const std::lock_guard lock(m_mutex);
    if (m_logged_once && now - m_last < m_interval) {
      ++m_suppressed;
      return false;
    }
    m_logged_once = true;
    m_last = now;
    *suppressed = m_suppressed;
    m_suppressed = 0;
    return true;
  }

 private:
  const std::chrono::milliseconds m_interval;
  std::mutex m_mutex;
  bool m_logged_once = false;
  std::chrono::steady_clock::time_point m_last;
  std::int64_t m_suppressed = 0;
};

}  // namespace orbitnest::authd
