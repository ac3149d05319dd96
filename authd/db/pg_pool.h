#pragma once
// A bounded pool of libpqxx connections. lease() hands one out for the
// length of a scope; a connection that broke is dropped, not returned.
// Connections are opened lazily, so authd starts while Postgres is down.
#include <chrono>
#include <cstdint>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace orbitnest::authd {

class PoolExhausted final : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class PgPool final {
 public:
  // `conninfo` may carry a password appended by the caller: it is never
  // logged, and neither is anything built from it.
  PgPool(std::string conninfo, int size, std::chrono::milliseconds wait_limit);
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  class Lease final {
   public:
    Lease(PgPool& pool, std::unique_ptr<pqxx::connection> conn) : m_pool(pool), m_conn(std::move(conn)) {}
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    pqxx::connection& operator*() { return *m_conn; }
    pqxx::connection* operator->() { return m_conn.get(); }

   private:
    PgPool& m_pool;
    std::unique_ptr<pqxx::connection> m_conn;
  };

  // Waits at most wait_limit for a free slot (PoolExhausted), then opens a
  // connection if none is idle (pqxx::broken_connection when Postgres is down).
  Lease lease();

  // Hot statements are prepared once per connection (Postgres then skips
  // parsing and planning them on every request). Register them before the
  // first lease; use them with exec_prepared(name, ...). Registering a name
  // again with the same SQL is a no-op.
  void prepare(std::string name, std::string sql);

  // For metrics: connections handed out and how long leases waited.
  struct Stats {
    int size = 0;
    int in_use = 0;
    std::uint64_t leases = 0;
    std::uint64_t exhausted = 0;  // waited the whole wait_limit: PoolExhausted
    double wait_seconds = 0;      // summed over every lease
  };
  Stats stats() const;

 private:
  void give_back(std::unique_ptr<pqxx::connection> conn);

  std::string m_conninfo;
  std::vector<std::pair<std::string, std::string>> m_prepared;
  int m_size;
  std::chrono::milliseconds m_wait_limit;
  mutable std::mutex m_mutex;
  std::condition_variable m_available;
  std::vector<std::unique_ptr<pqxx::connection>> m_idle;
  int m_out = 0;  // leased right now
  std::uint64_t m_leases = 0;
  std::uint64_t m_exhausted = 0;
  double m_wait_seconds = 0;
};

}  // namespace orbitnest::authd
