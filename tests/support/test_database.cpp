#include "tests/support/test_database.h"

#include <cstdlib>
#include <pqxx/pqxx>
#include <stdexcept>

#include "tests/support/temp_dir.h"

namespace orbitnest::test {

TestDatabase::TestDatabase() {
  const char* host = std::getenv("ORBITNEST_TEST_PGHOST");
  if (host == nullptr || *host == '\0') {
    throw std::runtime_error(
        "ORBITNEST_TEST_PGHOST is not set: run the tests through tests/run-all.sh, which starts Postgres");
  }
  m_host = host;
  m_name = "t_" + random_hex(8);
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
