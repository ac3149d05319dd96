#pragma once
// authd's link to keyd: connects with a protocol handshake, reconnects with
// exponential backoff while keyd is absent or restarting, and reports
// whether keyd is serving. Calls are serialised on one connection for now;
// the key-custody work adds a pool of connections for signing.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "keyd/client/keyd_connection.h"

namespace orbitnest::authd {

enum class KeydHealth { ok, not_ready, down };

class KeydLink final {
 public:
  KeydLink(std::string socket_path, std::chrono::milliseconds timeout, std::chrono::milliseconds max_backoff);
  ~KeydLink();
  KeydLink(const KeydLink&) = delete;
  KeydLink& operator=(const KeydLink&) = delete;

  // Asks keyd for its status (one round trip, bounded by the timeout).
  KeydHealth check();
  // True once a handshake has succeeded at least once.
  bool ever_connected() const { return m_ever_connected.load(); }

 private:
  void reconnect_loop();

  std::string m_socket_path;
  std::chrono::milliseconds m_timeout;
  std::chrono::milliseconds m_max_backoff;
  std::mutex m_mutex;
  std::condition_variable m_wake;
  std::unique_ptr<keyd::KeydConnection> m_conn;
  bool m_stopping = false;
  std::atomic<bool> m_ever_connected{false};
  std::thread m_thread;
};

}  // namespace orbitnest::authd
