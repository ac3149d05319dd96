#include "authd/rest/rpc_pool.h"

#include "authd/api/api_error.h"
#include "systemd/log.h"

namespace orbitnest::authd {
namespace {

// Everything that would let SQL running on this login do more than the
// client roles may, as one reason per row (none: the role is safe).
// Membership is transitive here (pg_has_role ... MEMBER), so a client role
// that was itself granted a stronger role is caught too; pg_shdepend holds
// what the role owns ('o') or was granted ('a') in this database.
constexpr const char* kUnsafeRoleSql = R"sql(
  SELECT reason FROM (
    SELECT 'is a superuser' AS reason FROM pg_roles WHERE rolname = session_user AND rolsuper
    UNION ALL SELECT 'has BYPASSRLS' FROM pg_roles WHERE rolname = session_user AND rolbypassrls
    UNION ALL SELECT 'has CREATEROLE' FROM pg_roles WHERE rolname = session_user AND rolcreaterole
    UNION ALL SELECT 'is INHERIT (must be NOINHERIT)' FROM pg_roles WHERE rolname = session_user AND rolinherit
    UNION ALL SELECT 'may switch to ' || quote_ident(o.rolname) FROM pg_roles o
      WHERE o.rolname NOT IN (session_user, 'anon', 'authenticated', 'service_role')
        AND pg_has_role(session_user, o.oid, 'MEMBER')
    UNION ALL SELECT 'owns or holds privileges on objects of this database' WHERE EXISTS (
      SELECT 1 FROM pg_shdepend d JOIN pg_roles r ON r.oid = d.refobjid
      WHERE r.rolname = session_user AND d.deptype IN ('o', 'a')
        AND d.dbid = (SELECT oid FROM pg_database WHERE datname = current_database()))
  ) unsafe LIMIT 5
)sql";

}  // namespace

RpcPool::RpcPool(std::string conninfo, int size, std::chrono::milliseconds statement_timeout)
    : m_pool(std::move(conninfo), size, std::chrono::milliseconds(2000)), m_statement_timeout(statement_timeout) {}

void RpcPool::check_role(pqxx::connection& conn) {
  const int pid = conn.backendpid();
  {
    const std::lock_guard lock(m_mutex);
    if (m_checked.count(pid) != 0) {
      return;
    }
  }
  pqxx::read_transaction tx(conn);
  const pqxx::result unsafe = tx.exec(kUnsafeRoleSql);
  if (!unsafe.empty()) {
    std::string reasons;
    for (const pqxx::row& r : unsafe) {
      reasons += (reasons.empty() ? "" : "; ") + r[0].as<std::string>();
    }
    log::error("authd.rpc_role_unsafe", {{"role", tx.exec1("SELECT session_user")[0].as<std::string>()},
                                         {"reasons", reasons}});
    throw ApiError(503, "rpc_unavailable",
                   "RPC is unavailable: its database role may do more than switch to the client roles");
  }
  tx.commit();
  const std::lock_guard lock(m_mutex);
  m_checked.insert(pid);
}

void RpcPool::use(const std::function<void(pqxx::connection&)>& call) {
  PgPool::Lease conn = m_pool.lease();
  try {
    check_role(*conn);
    // Not in a transaction, so it cannot be undone: session settings
    // (set_config(..., false), SET ROLE), temporary objects, prepared
    // statements, advisory locks and LISTENs of the last caller are gone.
    pqxx::nontransaction(*conn).exec0("DISCARD ALL");
  } catch (...) {
    conn->disconnect();  // not given back to the pool
    throw;
  }
  call(*conn);
}

}  // namespace orbitnest::authd
