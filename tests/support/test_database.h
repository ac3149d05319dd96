#pragma once
// A Postgres database of the test's own, created in the cluster the test
// command started ($ORBITNEST_TEST_PGHOST, a socket folder; peer auth as
// the current user) and dropped afterwards.
#include <string>

namespace orbitnest::test {

class TestDatabase final {
 public:
  TestDatabase();
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  const std::string& name() const { return m_name; }
  // libpq conninfo for this database (no password: peer auth).
  std::string conninfo() const;
  // The login role of authd's RPC endpoint, made as config/local/lib.sh
  // makes it (LOGIN NOINHERIT, granted only anon, authenticated and
  // service_role); authd's default rest.conninfo logs in as it.
  static constexpr const char* kRpcRole = "orbitnest_rpc";
  std::string rpc_conninfo() const { return conninfo() + " user=" + kRpcRole; }
  // Drops the database now (terminating its connections), e.g. to take
  // "Postgres" away from a running authd; create() brings it back empty.
  void drop();
  void create();
  // Runs `sql` in this database as the test's superuser, outside any
  // transaction; scalar() answers the first column of its one row.
  void exec(const std::string& sql) const;
  std::string scalar(const std::string& sql) const;

 private:
  void admin(const std::string& sql) const;
  std::string m_host;
  std::string m_name;
};

}  // namespace orbitnest::test
