#pragma once
// The RPC endpoint's database connections: a pool of its own, logged in as
// a role that owns nothing and may only switch to the client roles
// (PostgREST's authenticator pattern), never as authd's role. Postgres
// checks SET ROLE against the session user, so with authd's login a
// function running caller-influenced SQL could leave the client role;
// with this one there is nothing to go back to.
//
// Each new connection is checked once for what its role may do; every
// connection is reset (DISCARD ALL) before each call, so that settings,
// temporary tables or a role one caller's function left behind never
// reach the next caller.
#include <chrono>
#include <functional>
#include <mutex>
#include <set>
#include <string>

#include "authd/db/pg_pool.h"

namespace orbitnest::authd {

class RpcPool final {
 public:
  RpcPool(std::string conninfo, int size, std::chrono::milliseconds statement_timeout);

  // Runs `call` on a checked, freshly reset connection. Throws ApiError
  // 503 rpc_unavailable when the login role may do more than switch to
  // anon, authenticated and service_role (the reason goes to the log).
  void use(const std::function<void(pqxx::connection&)>& call);

  // Applied to each call with SET LOCAL: a function running longer is
  // cancelled with SQLSTATE 57014.
  std::chrono::milliseconds statement_timeout() const { return m_statement_timeout; }

 private:
  void check_role(pqxx::connection& conn);

  PgPool m_pool;
  std::chrono::milliseconds m_statement_timeout;
  std::mutex m_mutex;
  std::set<int> m_checked;  // backend pids of connections whose role passed
};

}  // namespace orbitnest::authd
