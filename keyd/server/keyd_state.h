#pragma once
// What keyd knows about itself that requests may ask: readiness and the
// token it serves. Written by the main thread, read by connection threads.
#include <mutex>
#include <string>

namespace orbitnest::keyd {

class KeydState final {
 public:
  struct Snapshot {
    bool ready = false;
    std::string detail;  // "ok" or why not ready
    std::string token_label;
  };

  void set(bool ready, std::string detail, std::string token_label) {
    const std::lock_guard lock(m_mutex);
    m_snapshot = Snapshot{ready, std::move(detail), std::move(token_label)};
  }
  Snapshot snapshot() const {
    const std::lock_guard lock(m_mutex);
    return m_snapshot;
  }

 private:
  mutable std::mutex m_mutex;
  Snapshot m_snapshot{false, "starting", ""};
};

}  // namespace orbitnest::keyd
