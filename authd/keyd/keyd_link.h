#pragma once
// authd's link to keyd: a pool of handshaken connections (so that signing
// is not serialised), and a watcher that, while keyd is absent or
// restarting, probes it with exponential backoff and reports when it is
// back. Health asks check(); flows call client() (typed operations).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "keyd/client/keyd_client.h"
#include "keyd/client/keyd_connection_pool.h"

namespace orbitnest::authd {

enum class KeydHealth { ok, not_ready, down };

class KeydLink final {
 public:
  KeydLink(std::string socket_path, std::chrono::milliseconds timeout, std::chrono::milliseconds max_backoff,
           std::size_t connections);
  ~KeydLink();
  KeydLink(const KeydLink&) = delete;
  KeydLink& operator=(const KeydLink&) = delete;

  // Asks keyd for its status (one round trip, bounded by the timeout);
  // answers "down" at once while the watcher has not seen keyd come back.
  KeydHealth check();
  // True once a handshake has succeeded at least once.
  bool ever_connected() const { return m_ever_connected.load(); }
  keyd::KeydConnectionPool& pool() { return m_pool; }
  keyd::KeydClient& client() { return m_client; }
  // keyd's pepper MAC of `data` for `purpose` with pepper `version` (0 =
  // current); returns the MAC and sets the version keyd used.
  std::string mac(std::string_view purpose, std::string_view data, int version, int* used_version);
  // A caller saw keyd fail: hand the link to the watcher.
  void report_down(const std::string& problem);

 private:
  void watch();

  std::string m_socket_path;
  std::chrono::milliseconds m_max_backoff;
  keyd::KeydConnectionPool m_pool;
  keyd::KeydClient m_client{m_pool};
  std::mutex m_mutex;
  std::condition_variable m_wake;
  bool m_down = true;
  bool m_stopping = false;
  std::atomic<bool> m_ever_connected{false};
  std::thread m_thread;
};

}  // namespace orbitnest::authd
