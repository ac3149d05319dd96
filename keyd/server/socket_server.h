#pragma once
// keyd's listener: accepts on the Unix SOCK_SEQPACKET socket, checks the
// peer with SO_PEERCRED before reading a byte, then serves each connection
// on its own thread (connections are few: authd's pool and keydctl).
// Connections are counted per peer class, so authd's uid holding all of
// its slots leaves the operators' slots free.
#include <atomic>
#include <chrono>
#include <functional>
#include <list>
#include <mutex>
#include <thread>

#include "keyd/server/peer_policy.h"
#include "keyd/server/request_handler.h"
#include "systemd/unique_fd.h"

namespace orbitnest::keyd {

// Connections held at once per peer class. A peer with authd's uid counts
// as authd (even when that uid also has operator rights, as root has in a
// development set-up), any other allowed peer as an operator.
struct ConnectionLimits {
  int authd = 48;
  int operators = 8;
};

class SocketServer final {
 public:
  // `on_refused` runs for every peer refused at accept (the audit log).
  SocketServer(UniqueFd listener, PeerPolicy policy, const RequestHandler& handler, ConnectionLimits limits,
               std::function<void(const PeerCredentials&, const std::string& command)> on_refused);
  ~SocketServer();
  SocketServer(const SocketServer&) = delete;
  SocketServer& operator=(const SocketServer&) = delete;

  int listener_fd() const { return m_listener.get(); }
  // Accepts one pending connection (call when the listener is readable).
  void accept_one();
  // Closes every connection and joins their threads.
  void stop();

 private:
  struct Connection {
    UniqueFd fd;
    std::thread thread;
    bool operator_class = false;
    std::atomic<bool> done{false};
  };
  void serve(Connection& conn, PeerCredentials peer);
  void reap_finished();
  // Logs a refusal at most once a second, with how many since the last line.
  void note_full(bool operator_class, int limit);

  UniqueFd m_listener;
  PeerPolicy m_policy;
  const RequestHandler& m_handler;
  ConnectionLimits m_limits;
  std::chrono::steady_clock::time_point m_last_full_log{};
  unsigned long m_full_since_log = 0;
  std::function<void(const PeerCredentials&, const std::string&)> m_on_refused;
  std::mutex m_mutex;
  std::list<Connection> m_connections;
  bool m_stopping = false;
};

// Binds a listening SOCK_SEQPACKET socket at `path` with `mode`, replacing a
// stale socket file (but never any other kind of file).
UniqueFd bind_seqpacket_socket(const std::string& path, unsigned mode);

}  // namespace orbitnest::keyd
