// The auth schema as the client roles see it, straight in SQL: anon and
// authenticated can write nothing in auth.* and read none of it; the
// helpers read the claims PostgREST sets; migrations are idempotent.
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "tests/support/authd_session.h"

namespace orbitnest::test {
namespace {

class AuthSchema : public ::testing::Test {
 protected:
  void SetUp() override {
    keyd = a.start_keyd();
    config = a.write_config("authd.yaml", a.authd_yaml());
    const auto [code, out] = run_command({ORBITNEST_AUTHD_BIN, "--config", config, "migrate"});
    ASSERT_EQ(code, 0) << out;
  }
  // Runs `sql` as `role` with `claims`; returns "" or the error.
  std::string as_role(const std::string& role, const std::string& claims, const std::string& sql) const {
    pqxx::connection c(a.db->conninfo());
    try {
      pqxx::work tx(c);
      tx.exec("SET LOCAL ROLE " + tx.quote_name(role));
      tx.exec_params("SELECT set_config('request.jwt.claims', $1, true)", claims);
      tx.exec(sql);
      tx.commit();
      return "";
    } catch (const std::exception& e) {
      return e.what();
    }
  }
  std::string scalar_as(const std::string& role, const std::string& claims, const std::string& sql) const {
    pqxx::connection c(a.db->conninfo());
    pqxx::work tx(c);
    tx.exec("SET LOCAL ROLE " + tx.quote_name(role));
    tx.exec_params("SELECT set_config('request.jwt.claims', $1, true)", claims);
    const pqxx::row r = tx.exec1(sql);
    return r[0].is_null() ? "NULL" : r[0].c_str();
  }
  // Every auth table with its first column (for an UPDATE valid on each).
  std::vector<std::pair<std::string, std::string>> auth_tables() const {
    pqxx::connection c(a.db->conninfo());
    pqxx::nontransaction tx(c);
    std::vector<std::pair<std::string, std::string>> out;
    for (const pqxx::row& r : tx.exec("SELECT table_name, column_name FROM information_schema.columns "
                                      "WHERE table_schema = 'auth' AND ordinal_position = 1 ORDER BY 1")) {
      out.emplace_back(r[0].c_str(), r[1].c_str());
    }
    return out;
  }

  Appliance a;
  std::unique_ptr<ChildProcess> keyd;
  std::string config;
};

TEST_F(AuthSchema, ClientRolesCanNeitherWriteNorReadAnyAuthTable) {
  const std::vector<std::pair<std::string, std::string>> tables = auth_tables();
  ASSERT_GE(tables.size(), 14u);
  const std::string claims = R"({"sub":"9f2a1c7e-0000-4000-8000-000000000001","role":"authenticated"})";
  for (const std::string& role : {std::string("anon"), std::string("authenticated")}) {
    for (const auto& [t, column] : tables) {
      for (const std::string& sql : {"SELECT * FROM auth." + t + " LIMIT 1", "DELETE FROM auth." + t,
                                     "UPDATE auth." + t + " SET " + column + " = " + column,
                                     "INSERT INTO auth." + t + " DEFAULT VALUES"}) {
        const std::string error = as_role(role, claims, sql);
        EXPECT_NE(error.find("permission denied"), std::string::npos) << role << ": " << sql << " -> " << error;
      }
    }
  }
}

TEST_F(AuthSchema, HelpersReadTheClaimsPostgrestSets) {
  const std::string claims =
      R"({"sub":"9f2a1c7e-0000-4000-8000-000000000001","role":"authenticated","email":"jane@example.com"})";
  EXPECT_EQ(scalar_as("authenticated", claims, "SELECT auth.uid()::text"), "9f2a1c7e-0000-4000-8000-000000000001");
  EXPECT_EQ(scalar_as("authenticated", claims, "SELECT auth.role()"), "authenticated");
  EXPECT_EQ(scalar_as("authenticated", claims, "SELECT auth.email()"), "jane@example.com");
  EXPECT_EQ(scalar_as("authenticated", claims, "SELECT auth.jwt() ->> 'email'"), "jane@example.com");
  EXPECT_EQ(scalar_as("anon", R"({"role":"anon"})", "SELECT auth.uid()"), "NULL");
  // The older per-claim setting still works (Supabase keeps it as a fallback).
  pqxx::connection c(a.db->conninfo());
  pqxx::work tx(c);
  tx.exec("SELECT set_config('request.jwt.claim.sub', '9f2a1c7e-0000-4000-8000-000000000002', true)");
  EXPECT_EQ(std::string(tx.exec1("SELECT auth.uid()::text")[0].c_str()), "9f2a1c7e-0000-4000-8000-000000000002");
}

TEST_F(AuthSchema, MigrationsAreIdempotentAndVersioned) {
  // pg_dump's \restrict lines carry a random key per run: drop them.
  const auto dump = [&] {
    auto [code, text] = run_command({"/usr/bin/pg_dump", "--schema-only", "--schema=auth", "-d", a.db->conninfo()});
    std::string kept;
    std::size_t pos = 0;
    while (pos < text.size()) {
      const std::size_t nl = text.find('\n', pos);
      const std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos + 1);
      if (line.rfind("\\restrict", 0) != 0 && line.rfind("\\unrestrict", 0) != 0) {
        kept += line;
      }
      pos = nl == std::string::npos ? text.size() : nl + 1;
    }
    return std::make_pair(code, kept);
  };
  const auto [code1, first] = dump();
  ASSERT_EQ(code1, 0) << first;
  const auto [code, out] = run_command({ORBITNEST_AUTHD_BIN, "--config", config, "migrate"});
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("0 migration(s) applied"), std::string::npos) << out;
  EXPECT_TRUE(dump().second == first) << "the schema changed when migrating twice";
  // A database newer than this authd is refused.
  {
    pqxx::connection c(a.db->conninfo());
    pqxx::nontransaction tx(c);
    tx.exec("INSERT INTO auth.schema_migrations (version, name) VALUES (9999, 'from the future')");
  }
  const auto [newer_code, newer] = run_command({ORBITNEST_AUTHD_BIN, "--config", config, "migrate"});
  EXPECT_EQ(newer_code, 1);
  EXPECT_NE(newer.find("newer than this authd knows"), std::string::npos) << newer;
}

}  // namespace
}  // namespace orbitnest::test
