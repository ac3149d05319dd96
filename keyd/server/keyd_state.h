#pragma once
// What keyd knows about itself that requests may ask: readiness, the token
// it serves, and (once the HSM is open) the services behind the operations.
// Written by the main thread, read by connection threads.
#include <mutex>
#include <string>

namespace orbitnest::keyd {

class KeyringStore;
class SecretVault;
class AuditLog;

struct KeydServices {
  KeyringStore* keyrings = nullptr;
  SecretVault* vault = nullptr;
  AuditLog* audit = nullptr;
};

class KeydState final {
 public:
  struct Snapshot {
    bool ready = false;
    std::string detail;  // "ok" or why not ready
    std::string token_label;
    KeydServices services;  // valid while ready
  };

  void set(bool ready, std::string detail, std::string token_label, KeydServices services = {}) {
    const std::lock_guard lock(m_mutex);
    m_snapshot = Snapshot{ready, std::move(detail), std::move(token_label), services};
  }
  Snapshot snapshot() const {
    const std::lock_guard lock(m_mutex);
    return m_snapshot;
  }

 private:
  mutable std::mutex m_mutex;
  Snapshot m_snapshot{false, "starting", "", {}};
};

}  // namespace orbitnest::keyd
