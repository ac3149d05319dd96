// The auth schema as the client roles see it, straight in SQL: anon and
// authenticated can write nothing in auth.* and read none of its tables;
// a signed-in user reads their own rows, masked, through the user_* views;
// the helpers read the claims PostgREST sets; migrations from every
// earlier version, and run twice, end at the same schema.
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include <string>

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
    for (const pqxx::row& r : tx.exec("SELECT c.table_name, c.column_name FROM information_schema.columns c "
                                      "JOIN information_schema.tables t USING (table_schema, table_name) "
                                      "WHERE c.table_schema = 'auth' AND c.ordinal_position = 1 "
                                      "AND t.table_type = 'BASE TABLE' ORDER BY 1")) {
      out.emplace_back(r[0].c_str(), r[1].c_str());
    }
    return out;
  }

  // The auth schema as pg_dump writes it, without the \restrict lines
  // (they carry a random key per run).
  std::pair<int, std::string> dump() const {
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
    return {code, kept};
  }
  void exec(const std::string& sql) const { a.db->exec(sql); }

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
  EXPECT_EQ(scalar_as("anon", R"({"role":"anon","ref":"shop"})", "SELECT auth.project()"), "shop");
  // The older per-claim settings are ignored (policy 0006): anything running
  // as a client role can set them, so only request.jwt.claims counts.
  pqxx::connection c(a.db->conninfo());
  pqxx::work tx(c);
  tx.exec("SELECT set_config('request.jwt.claim.sub', '9f2a1c7e-0000-4000-8000-000000000002', true)");
  EXPECT_TRUE(tx.exec1("SELECT auth.uid()")[0].is_null());
}

TEST_F(AuthSchema, MigrationsAreIdempotentAndVersioned) {
  const auto [code1, first] = dump();
  ASSERT_EQ(code1, 0) << first;
  const auto [code, out] = run_command({ORBITNEST_AUTHD_BIN, "--config", config, "migrate"});
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("0 migration(s) applied"), std::string::npos) << out;
  EXPECT_TRUE(dump().second == first) << "the schema changed when migrating twice";
  // A database newer than this authd is refused.
  exec("INSERT INTO auth.schema_migrations (version, name) VALUES (9999, 'from the future')");
  const auto [newer_code, newer] = run_command({ORBITNEST_AUTHD_BIN, "--config", config, "migrate"});
  EXPECT_EQ(newer_code, 1);
  EXPECT_NE(newer.find("newer than this authd knows"), std::string::npos) << newer;
}

TEST_F(AuthSchema, EveryEarlierVersionMigratesToTheSameSchema) {
  const auto [code0, fresh] = dump();
  ASSERT_EQ(code0, 0) << fresh;
  const int newest = std::stoi(a.db->scalar("SELECT max(version) FROM auth.schema_migrations"));
  ASSERT_GE(newest, 2);
  for (int v = 1; v < newest; ++v) {
    exec("DROP SCHEMA auth CASCADE");
    const auto [to_code, to_out] =
        run_command({ORBITNEST_AUTHD_BIN, "--config", config, "migrate", "--to", std::to_string(v)});
    ASSERT_EQ(to_code, 0) << to_out;
    EXPECT_NE(to_out.find("schema at version " + std::to_string(v)), std::string::npos) << to_out;
    const auto [code, out] = run_command({ORBITNEST_AUTHD_BIN, "--config", config, "migrate"});
    ASSERT_EQ(code, 0) << out;
    EXPECT_NE(out.find(std::to_string(newest - v) + " migration(s) applied"), std::string::npos) << out;
    EXPECT_TRUE(dump().second == fresh) << "migrating from version " << v << " ends at another schema";
  }
  const auto [bad_code, bad] = run_command({ORBITNEST_AUTHD_BIN, "--config", config, "migrate", "--to", "two"});
  EXPECT_EQ(bad_code, 64) << bad;
}

TEST_F(AuthSchema, SignedInUsersReadTheirOwnAuthDataMaskedThroughTheUserViews) {
  const std::string jane = "9f2a1c7e-0000-4000-8000-00000000000a";
  const std::string john = "9f2a1c7e-0000-4000-8000-00000000000b";
  exec("INSERT INTO auth.projects (ref, name, publishable_key, secret_key_mac, secret_key_mac_ver, issuer, keyring) "
       "VALUES ('p1', 'p1', 'pk', '\\x01', 1, 'https://x/p1', 'project:p1')");
  for (const std::string& id : {jane, john}) {
    const std::string n = id.substr(id.size() - 1);
    exec("INSERT INTO auth.users (id, project_ref, email, encrypted_password) VALUES ('" + id + "', 'p1', '" + n +
         "@example.com', '$argon2id$secret-hash')");
    exec("INSERT INTO auth.sessions (id, user_id) VALUES ('" + id.substr(0, 34) + "c" + n + "', '" + id + "')");
    exec("INSERT INTO auth.refresh_tokens (token_hash, session_id, user_id) VALUES ('\\xdead" + n + "0', '" +
         id.substr(0, 34) + "c" + n + "', '" + id + "')");
    exec("INSERT INTO auth.identities (id, user_id, provider, provider_id) VALUES (gen_random_uuid(), '" + id +
         "', 'email', '" + id + "')");
    exec("INSERT INTO auth.mfa_factors (id, user_id, factor_type, sealed_secret) VALUES (gen_random_uuid(), '" +
         id + "', 'totp', '\\x5ea1ed')");
  }
  const std::string jane_claims = R"({"sub":")" + jane + R"(","role":"authenticated","session_id":")" +
                                  jane.substr(0, 34) + R"(ca"})";
  const std::vector<std::string> views = {"user_profile", "user_sessions", "user_identities", "user_factors",
                                          "user_passkeys"};
  for (const std::string& v : views) {
    // Jane sees her rows only (one each, none for passkeys), never John's.
    const std::string expected = v == "user_passkeys" ? "0" : "1";
    EXPECT_EQ(scalar_as("authenticated", jane_claims, "SELECT count(*) FROM auth." + v), expected) << v;
    EXPECT_EQ(scalar_as("authenticated", R"({"role":"authenticated"})", "SELECT count(*) FROM auth." + v), "0") << v;
    // Read-only, and closed to anon.
    EXPECT_NE(as_role("authenticated", jane_claims, "DELETE FROM auth." + v).find("permission denied"),
              std::string::npos) << v;
    EXPECT_NE(as_role("authenticated", jane_claims, "UPDATE auth." + v + " SET id = id").find("permission denied"),
              std::string::npos) << v;
    EXPECT_NE(as_role("anon", R"({"role":"anon"})", "SELECT * FROM auth." + v).find("permission denied"),
              std::string::npos) << v;
  }
  EXPECT_EQ(scalar_as("authenticated", jane_claims, "SELECT email FROM auth.user_profile"), "a@example.com");
  EXPECT_EQ(scalar_as("authenticated", jane_claims, "SELECT is_current::text FROM auth.user_sessions"), "true");
  // No sensitive column is in any view.
  pqxx::connection c(a.db->conninfo());
  const pqxx::result leaked = pqxx::nontransaction(c).exec(
      "SELECT table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = 'auth' "
      "AND table_name LIKE 'user\\_%' AND column_name IN ('encrypted_password', 'pepper_version', 'code_mac', "
      "'sealed_secret', 'token_hash', 'last_used_step', 'public_key_cose', 'credential_id')");
  EXPECT_EQ(leaked.size(), 0u) << leaked[0][0].c_str();
  // A caller's own cheap predicate runs after the uid filter
  // (security_barrier), so it cannot see John's row even in an error.
  exec("CREATE OR REPLACE FUNCTION public.peek(e text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS "
       "$$ BEGIN IF e <> 'a@example.com' THEN RAISE EXCEPTION 'saw %', e; END IF; RETURN true; END $$");
  exec("GRANT EXECUTE ON FUNCTION public.peek(text) TO authenticated");
  EXPECT_EQ(as_role("authenticated", jane_claims, "SELECT * FROM auth.user_profile WHERE public.peek(email)"), "");
  EXPECT_NE(as_role("authenticated", jane_claims, "SELECT * FROM auth.users WHERE public.peek(email)")
                .find("permission denied"),
            std::string::npos);
}

}  // namespace
}  // namespace orbitnest::test
