#include "tests/support/test_database.h"

#include <cstdlib>
#include <mutex>
#include <pqxx/pqxx>
#include <stdexcept>

#include "tests/support/temp_dir.h"

namespace orbitnest::test {
namespace {

// The cluster-wide roles (client roles and the RPC login role), once per
// test process. Tests run in parallel and roles are shared by the whole
// cluster: an advisory lock in the postgres database orders this set-up
// across tests, and a role that another test (or an authd migration)
// created in between is fine.
void make_client_roles(const std::string& host) {
  static std::once_flag once;
  std::call_once(once, [&] {
    pqxx::connection conn("host=" + host + " dbname=postgres");
    pqxx::work tx(conn);
    tx.exec("SELECT pg_advisory_xact_lock(6006)");
    tx.exec(std::string(R"sql(
      DO $$
      DECLARE
        r text;
      BEGIN
        FOREACH r IN ARRAY ARRAY['anon', 'authenticated', 'service_role', ')sql") + TestDatabase::kRpcRole + R"sql('] LOOP
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            BEGIN
              EXECUTE format('CREATE ROLE %I NOINHERIT %s', r,
                             CASE r WHEN 'service_role' THEN 'NOLOGIN BYPASSRLS' WHEN 'anon' THEN 'NOLOGIN'
                                    WHEN 'authenticated' THEN 'NOLOGIN' ELSE 'LOGIN' END);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
            END;
          END IF;
        END LOOP;
        FOREACH r IN ARRAY ARRAY['anon', 'authenticated', 'service_role'] LOOP
          IF NOT pg_has_role(')sql" + TestDatabase::kRpcRole + R"sql(', r, 'MEMBER') THEN
            EXECUTE format('GRANT %I TO %I', r, ')sql" + TestDatabase::kRpcRole + R"sql(');
          END IF;
        END LOOP;
      END
      $$)sql");
    tx.commit();
  });
}

}  // namespace

TestDatabase::TestDatabase() {
  const char* host = std::getenv("ORBITNEST_TEST_PGHOST");
  if (host == nullptr || *host == '\0') {
    throw std::runtime_error(
        "ORBITNEST_TEST_PGHOST is not set: run the tests through tests/run-all.sh, which starts Postgres");
  }
  m_host = host;
  m_name = "t_" + random_hex(8);
  make_client_roles(m_host);
  create();
}

TestDatabase::~TestDatabase() {
  try {
    drop();
  } catch (...) {
    // A leftover test database is harmless; the cluster is per test run.
  }
}

std::string TestDatabase::conninfo() const { return "host=" + m_host + " dbname=" + m_name; }

void TestDatabase::admin(const std::string& sql) const {
  pqxx::connection conn("host=" + m_host + " dbname=postgres");
  pqxx::nontransaction tx(conn);
  tx.exec(sql);
}

void TestDatabase::exec(const std::string& sql) const {
  pqxx::connection conn(conninfo());
  pqxx::nontransaction tx(conn);
  tx.exec(sql);
}

std::string TestDatabase::scalar(const std::string& sql) const {
  pqxx::connection conn(conninfo());
  pqxx::nontransaction tx(conn);
  return tx.exec1(sql)[0].c_str();
}

void TestDatabase::drop() { admin("DROP DATABASE IF EXISTS " + m_name + " WITH (FORCE)"); }
void TestDatabase::create() { admin("CREATE DATABASE " + m_name); }

}  // namespace orbitnest::test
