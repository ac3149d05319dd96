#include "authd/db/pg_pool.h"

#include <stdexcept>

namespace orbitnest::authd {

PgPool::PgPool(std::string conninfo, int size, std::chrono::milliseconds wait_limit)
    : m_conninfo(std::move(conninfo)), m_size(size), m_wait_limit(wait_limit) {}

PgPool::Lease::~Lease() { m_pool.give_back(std::move(m_conn)); }

PgPool::Lease PgPool::lease() {
  std::unique_ptr<pqxx::connection> conn;
  {
    const auto asked = std::chrono::steady_clock::now();
    std::unique_lock lock(m_mutex);
    const bool got = m_available.wait_for(lock, m_wait_limit, [this] { return m_out < m_size; });
    m_wait_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - asked).count();
    if (!got) {
      ++m_exhausted;
      throw PoolExhausted("all database connections are busy");
    }
    ++m_out;
    ++m_leases;
    if (!m_idle.empty()) {
      conn = std::move(m_idle.back());
      m_idle.pop_back();
    }
  }
  try {
    if (!conn || !conn->is_open()) {
      conn = std::make_unique<pqxx::connection>(m_conninfo);
      for (const auto& [name, sql] : m_prepared) {
        conn->prepare(name, sql);
      }
    }
  } catch (...) {
    give_back(nullptr);
    throw;
  }
  return Lease(*this, std::move(conn));
}

PgPool::Stats PgPool::stats() const {
  const std::lock_guard lock(m_mutex);
  return Stats{m_size, m_out, m_leases, m_exhausted, m_wait_seconds};
}

void PgPool::prepare(std::string name, std::string sql) {
  const std::lock_guard lock(m_mutex);
  for (const auto& [known, known_sql] : m_prepared) {
    if (known == name) {
      if (known_sql != sql) {
        throw std::logic_error("prepared statement " + name + " registered twice with different SQL");
      }
      return;  // every user of a statement registers it; once is enough
    }
  }
  m_prepared.emplace_back(std::move(name), std::move(sql));
}

void PgPool::give_back(std::unique_ptr<pqxx::connection> conn) {
  {
    const std::lock_guard lock(m_mutex);
    --m_out;
    if (conn && conn->is_open()) {
      m_idle.push_back(std::move(conn));
    }
  }
  m_available.notify_one();
}

}  // namespace orbitnest::authd
