#include "keyd/client/keyd_connection_pool.h"

namespace orbitnest::keyd {

KeydConnectionPool::KeydConnectionPool(std::string socket_path, std::chrono::milliseconds timeout,
                                       std::size_t max_connections)
    : m_socket_path(std::move(socket_path)), m_timeout(timeout), m_max(max_connections) {}

Frame KeydConnectionPool::call(Op op, std::vector<std::string> fields, std::vector<Status> accepted) {
  const auto start = std::chrono::steady_clock::now();
  try {
    Frame answer = call_unmeasured(op, std::move(fields), std::move(accepted));
    m_round_trips.record(op, std::chrono::steady_clock::now() - start, true);
    return answer;
  } catch (...) {
    m_round_trips.record(op, std::chrono::steady_clock::now() - start, false);
    throw;
  }
}

Frame KeydConnectionPool::call_unmeasured(Op op, std::vector<std::string> fields, std::vector<Status> accepted) {
  std::unique_ptr<KeydConnection> conn;
  {
    std::unique_lock lock(m_mutex);
    if (!m_available.wait_for(lock, m_timeout, [this] { return !m_idle.empty() || m_open < m_max; })) {
      throw KeydUnavailable("all keyd connections are busy");
    }
    if (!m_idle.empty()) {
      conn = std::move(m_idle.back());
      m_idle.pop_back();
    } else {
      ++m_open;
    }
  }
  // Whatever happens below, the slot is given back exactly once.
  struct Return {
    KeydConnectionPool& pool;
    std::unique_ptr<KeydConnection>& conn;
    ~Return() {
      {
        const std::lock_guard lock(pool.m_mutex);
        if (conn) {
          pool.m_idle.push_back(std::move(conn));
        } else {
          --pool.m_open;
        }
      }
      pool.m_available.notify_one();
    }
  } give_back{*this, conn};
  if (!conn) {
    conn = std::make_unique<KeydConnection>(m_socket_path, m_timeout);
  }
  try {
    return conn->call(op, std::move(fields), std::move(accepted));
  } catch (const KeydUnavailable&) {
    conn.reset();
    throw;
  }
}

void KeydConnectionPool::drop_idle() {
  const std::lock_guard lock(m_mutex);
  m_open -= m_idle.size();
  m_idle.clear();
}

}  // namespace orbitnest::keyd
