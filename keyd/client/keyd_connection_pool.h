#pragma once
// Several connections to keyd, so that concurrent callers (authd's worker
// threads) are not serialised on one socket: keyd serves each connection on
// its own thread. A connection that fails is dropped, never reused.
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "keyd/client/keyd_connection.h"
#include "keyd/client/round_trip_stats.h"

namespace orbitnest::keyd {

class KeydConnectionPool final : public KeydTransport {
 public:
  KeydConnectionPool(std::string socket_path, std::chrono::milliseconds timeout, std::size_t max_connections);
  KeydConnectionPool(const KeydConnectionPool&) = delete;
  KeydConnectionPool& operator=(const KeydConnectionPool&) = delete;

  // As KeydConnection::call, on an idle connection or a new one (up to
  // max_connections; beyond that the caller waits up to the timeout).
  Frame call(Op op, std::vector<std::string> fields, std::vector<Status> accepted = {}) override;
  // Closes every idle connection (after keyd restarted, say).
  void drop_idle();
  // Every call's op, outcome and time (for metrics).
  const RoundTripStats& round_trips() const { return m_round_trips; }

 private:
  std::string m_socket_path;
  std::chrono::milliseconds m_timeout;
  std::size_t m_max;
  std::mutex m_mutex;
  std::condition_variable m_available;
  std::vector<std::unique_ptr<KeydConnection>> m_idle;
  std::size_t m_open = 0;
  RoundTripStats m_round_trips;

  Frame call_unmeasured(Op op, std::vector<std::string> fields, std::vector<Status> accepted);
};

}  // namespace orbitnest::keyd
