// The RPC endpoint's isolation, through the real API with the real
// restricted login role (orbitnest_rpc, set up as config/local/lib.sh does):
// a function running caller-influenced SQL cannot leave the client roles or
// read auth.*, nothing one call sets reaches the next on the same pooled
// connection, a long call is cut by statement_timeout, the helpers trust
// request.jwt.claims only, and one project's keys and users never reach
// another project's schemas.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>

#include "keyd/keyring/base64url.h"
#include "tests/support/authd_session.h"

namespace orbitnest::test {
namespace {

constexpr const char* kSchemaSql = R"sql(
  CREATE SCHEMA shop_app;
  CREATE SCHEMA blog_app;
  GRANT USAGE ON SCHEMA shop_app, blog_app TO anon, authenticated, service_role;
  CREATE TABLE shop_app.notes (
    id serial PRIMARY KEY, owner_id uuid NOT NULL DEFAULT auth.uid(), note text NOT NULL);
  ALTER TABLE shop_app.notes ENABLE ROW LEVEL SECURITY;
  CREATE POLICY own ON shop_app.notes FOR ALL USING (auth.uid() = owner_id) WITH CHECK (auth.uid() = owner_id);
  GRANT SELECT, INSERT ON shop_app.notes TO anon, authenticated, service_role;
  GRANT USAGE ON SEQUENCE shop_app.notes_id_seq TO authenticated;
  CREATE TABLE blog_app.posts (id serial PRIMARY KEY, body text NOT NULL);
  ALTER TABLE blog_app.posts ENABLE ROW LEVEL SECURITY;
  GRANT SELECT ON blog_app.posts TO anon, authenticated, service_role;
  INSERT INTO blog_app.posts (body) VALUES ('blog secret 1'), ('blog secret 2');

  CREATE FUNCTION shop_app.add_note(note text) RETURNS void LANGUAGE sql
    AS $$ INSERT INTO shop_app.notes (note) VALUES (note) $$;
  -- plpgsql: "notes" is resolved when called, so a temporary table left on
  -- the connection by an earlier caller would shadow it.
  CREATE FUNCTION shop_app.my_notes() RETURNS SETOF text LANGUAGE plpgsql STABLE
    AS $$ BEGIN RETURN QUERY SELECT note FROM notes ORDER BY note; END $$;
  CREATE FUNCTION shop_app.whoami() RETURNS json LANGUAGE sql STABLE
    AS $$ SELECT json_build_object('role', auth.role(), 'project', auth.project(), 'uid', auth.uid(),
                                   'current_user', current_user) $$;
  -- An exposed function that runs caller-influenced SQL: the worst an app
  -- could ship.
  CREATE FUNCTION shop_app.run_sql(prelude text, query text) RETURNS text LANGUAGE plpgsql SECURITY INVOKER
    AS $$ DECLARE r text; BEGIN EXECUTE prelude; EXECUTE query INTO r; RETURN r; END $$;
  -- Leaves session-level settings and a temporary table behind.
  CREATE FUNCTION shop_app.poison(sub text) RETURNS void LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM set_config('request.jwt.claim.sub', sub, false);
    PERFORM set_config('request.jwt.claims', json_build_object('sub', sub, 'role', 'authenticated')::text, false);
    PERFORM set_config('app.left_behind', 'yes', false);
    CREATE TEMP TABLE notes AS SELECT 'forged'::text AS note;
  END $$;
  CREATE FUNCTION shop_app.left_behind() RETURNS text LANGUAGE sql STABLE
    AS $$ SELECT nullif(current_setting('app.left_behind', true), '') $$;
  -- Sets the older per-claim settings within the call.
  CREATE FUNCTION shop_app.claims_after(sub text) RETURNS json LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM set_config('request.jwt.claim.sub', sub, true);
    PERFORM set_config('request.jwt.claim.role', 'service_role', true);
    PERFORM set_config('request.jwt.claim.email', 'forged@example.com', true);
    PERFORM set_config('request.jwt.claim', json_build_object('sub', sub)::text, true);
    RETURN json_build_object('uid', auth.uid(), 'role', auth.role(), 'email', auth.email(),
                             'jwt_sub', auth.jwt() ->> 'sub');
  END $$;
  CREATE FUNCTION shop_app.slow() RETURNS int LANGUAGE sql AS $$ SELECT 1 FROM pg_sleep(20) $$;
  -- Tries to lift the timeout before running long.
  CREATE FUNCTION shop_app.slow_and_sly() RETURNS int LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM set_config('statement_timeout', '0', true);
    PERFORM pg_sleep(20);
    RETURN 1;
  END $$;
  CREATE FUNCTION blog_app.all_posts() RETURNS SETOF text LANGUAGE sql STABLE
    AS $$ SELECT body FROM blog_app.posts ORDER BY id $$;
  CREATE POLICY blog_only ON blog_app.posts FOR SELECT USING (auth.project() = 'blog');
)sql";

class RpcIsolation : public ::testing::Test {
 protected:
  void start(const std::string& rest_section) {
    keyd = a.start_keyd();
    config = a.write_config("authd.yaml", a.authd_yaml() + rest_section);
    shop = create_project("shop", true, config);
    blog = create_project("blog", true, config);
    ASSERT_EQ(settings("shop", R"(exposed_schemas=["shop_app"])").first, 0);
    ASSERT_EQ(settings("blog", R"(exposed_schemas=["blog_app"])").first, 0);
    authd = a.start_authd({}, config);
    ASSERT_EQ(a.wait_for_status("/auth/v1/health", 200).status, 200);
    a.db->exec(kSchemaSql);
    jane = sign_up("jane@example.com", shop);
    john = sign_up("john@example.com", shop);
  }
  void SetUp() override { start("rest:\n  pool_size: 1\n  statement_timeout_ms: 1000\n"); }

  std::pair<int, std::string> settings(const std::string& ref, const std::string& assignment) const {
    return run_command({ORBITNEST_AUTHD_BIN, "--config", config, "project", "settings", ref, assignment});
  }
  std::string sign_up(const std::string& email, const TestProject& p) const {
    const std::string base = "/projects/" + p.ref + "/auth/v1";
    api(a, "POST", base + "/signup", R"({"email": ")" + email + "\"}", {"apikey: " + p.publishable_key});
    const HttpResult v = api(a, "POST", base + "/verify",
                             R"({"type": "signup", "email": ")" + email + R"(", "token": "1234"})");
    return std::string(boost::json::parse(v.body).at("access_token").as_string());
  }
  static std::string claim(const std::string& token, const char* name) {
    const std::size_t a = token.find('.') + 1;
    const std::string payload = *keyd::base64url_decode(token.substr(a, token.rfind('.') - a));
    return boost::json::serialize(boost::json::parse(payload).at(name));
  }
  // POST /projects/{project}/rest/v1/rpc/{function} with `key` as apikey
  // and, if given, `token` as the bearer.
  HttpResult call(const std::string& project, const std::string& key, const std::string& function,
                  const std::string& args, const std::string& token = "") const {
    std::vector<std::string> headers = {"apikey: " + key};
    if (!token.empty()) {
      headers.push_back("Authorization: Bearer " + token);
    }
    return api(a, "POST", "/projects/" + project + "/rest/v1/rpc/" + function, args, headers);
  }
  HttpResult as_user(const std::string& token, const std::string& function, const std::string& args = "{}") const {
    return call("shop", shop.publishable_key, function, args, token);
  }
  HttpResult as_anon(const std::string& function, const std::string& args = "{}") const {
    return call("shop", shop.publishable_key, function, args);
  }

  Appliance a;
  std::unique_ptr<ChildProcess> keyd;
  std::unique_ptr<ChildProcess> authd;
  std::string config;
  TestProject shop;
  TestProject blog;
  std::string jane;
  std::string john;
};

std::string json_string(const std::string& s) { return boost::json::serialize(boost::json::value(s)); }

TEST_F(RpcIsolation, AFunctionRunningCallersSqlCannotLeaveTheClientRoles) {
  const std::string owner = a.db->scalar("SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'auth'");
  const std::string read_auth = "SELECT count(*)::text || ' ' || coalesce(string_agg(email, ','), '') FROM auth.users";
  const std::string preludes[] = {
      "SET ROLE " + owner,
      "SELECT set_config('role', '" + owner + "', false)",
      "SET SESSION AUTHORIZATION " + owner,
      "RESET ROLE",
      "SET ROLE service_role",
      "SELECT 1",
  };
  for (const std::string& prelude : preludes) {
    for (const std::string& token : {jane, std::string()}) {
      const std::string args = "{\"prelude\": " + json_string(prelude) + ", \"query\": " + json_string(read_auth) + "}";
      const HttpResult user = token.empty() ? as_anon("run_sql", args) : as_user(token, "run_sql", args);
      EXPECT_EQ(user.status, 403) << prelude << ": " << user.body;
      EXPECT_EQ(user.body.find("@example.com"), std::string::npos) << prelude << ": " << user.body;
      const HttpResult secret = call("shop", shop.secret_key, "run_sql", args);
      EXPECT_EQ(secret.status, 403) << prelude << " (service_role): " << secret.body;
      EXPECT_EQ(secret.body.find("@example.com"), std::string::npos) << secret.body;
    }
  }
  // What RESET ROLE gets back to: the restricted login, never authd's role.
  const std::string whoami = "{\"prelude\": \"RESET ROLE\", \"query\": \"SELECT session_user || ' ' || current_user\"}";
  EXPECT_EQ(as_user(jane, "run_sql", whoami).body, "\"orbitnest_rpc orbitnest_rpc\"");
  const std::string write = "{\"prelude\": \"RESET ROLE\", \"query\": \"UPDATE auth.users SET email = 'x' RETURNING 1\"}";
  EXPECT_EQ(as_user(jane, "run_sql", write).status, 403);
  EXPECT_EQ(a.db->scalar("SELECT count(*) FROM auth.users WHERE email = 'x'"), "0");
}

TEST_F(RpcIsolation, NothingOneCallSetsReachesTheNextOnTheSameConnection) {
  const std::string jane_id = claim(jane, "sub");
  ASSERT_EQ(as_user(jane, "add_note", R"({"note": "jane's"})").status, 200);
  ASSERT_EQ(as_user(john, "add_note", R"({"note": "john's"})").status, 200);
  // rest.pool_size is 1: every call below runs on the connection john's
  // poisoned call used.
  const HttpResult poisoned = as_user(john, "poison", "{\"sub\": " + jane_id + "}");
  ASSERT_EQ(poisoned.status, 200) << poisoned.body;
  EXPECT_EQ(as_anon("left_behind").body, "null") << "a session-level setting outlived its call";
  EXPECT_EQ(as_anon("my_notes").body, "[]") << "anon became jane, or read a leftover temporary table";
  EXPECT_EQ(as_user(john, "my_notes").body, R"(["john's"])");
  EXPECT_EQ(as_user(jane, "my_notes").body, R"(["jane's"])");
  const boost::json::value me = boost::json::parse(as_anon("whoami").body);
  EXPECT_EQ(me.at("role"), "anon");
  EXPECT_TRUE(me.at("uid").is_null());
  EXPECT_EQ(me.at("current_user"), "anon");
}

TEST_F(RpcIsolation, HelpersTrustOnlyRequestJwtClaims) {
  const HttpResult r = as_user(jane, "claims_after", "{\"sub\": " + claim(john, "sub") + "}");
  ASSERT_EQ(r.status, 200) << r.body;
  const boost::json::value seen = boost::json::parse(r.body);
  EXPECT_EQ(boost::json::serialize(seen.at("uid")), claim(jane, "sub")) << "auth.uid() read request.jwt.claim.sub";
  EXPECT_EQ(seen.at("role"), "authenticated");
  EXPECT_EQ(seen.at("email"), "jane@example.com");
  EXPECT_EQ(boost::json::serialize(seen.at("jwt_sub")), claim(jane, "sub")) << "auth.jwt() read request.jwt.claim";
}

TEST_F(RpcIsolation, ALongCallIsCutByTheStatementTimeout) {
  for (const char* function : {"slow", "slow_and_sly"}) {
    const auto started = std::chrono::steady_clock::now();
    const HttpResult r = as_user(jane, function);
    const auto took = std::chrono::steady_clock::now() - started;
    EXPECT_EQ(r.status, 500) << function << ": " << r.body << r.error;
    EXPECT_NE(r.body.find("\"code\":\"57014\""), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("statement timeout (1000 ms"), std::string::npos) << r.body;
    EXPECT_LT(took, std::chrono::seconds(5)) << function;
  }
  EXPECT_EQ(as_anon("left_behind").status, 200) << "the connection serves the next call";
}

TEST_F(RpcIsolation, EveryCallCarriesItsProject) {
  EXPECT_EQ(claim(jane, "ref"), "\"shop\"") << "the access token names its project";
  const boost::json::value user = boost::json::parse(as_user(jane, "whoami").body);
  const boost::json::value anon = boost::json::parse(as_anon("whoami").body);
  const boost::json::value service = boost::json::parse(call("shop", shop.secret_key, "whoami", "{}").body);
  EXPECT_EQ(user.at("project"), "shop");
  EXPECT_EQ(user.at("role"), "authenticated");
  EXPECT_EQ(anon.at("project"), "shop");
  EXPECT_EQ(anon.at("role"), "anon");
  EXPECT_EQ(service.at("project"), "shop");
  EXPECT_EQ(service.at("role"), "service_role");
}

TEST_F(RpcIsolation, OneProjectsKeysAndUsersCannotReadAnothersRows) {
  // blog reads its own rows (its policy checks auth.project()).
  const HttpResult own = call("blog", blog.publishable_key, "all_posts", "{}");
  EXPECT_EQ(boost::json::parse(own.body), boost::json::parse(R"(["blog secret 1","blog secret 2"])"));
  EXPECT_EQ(call("blog", blog.secret_key, "all_posts", "{}").status, 200);
  // shop's secret key, publishable key and user, for blog's schema.
  for (const char* function : {"blog_app.all_posts", "all_posts", "public.all_posts"}) {
    const HttpResult secret = call("shop", shop.secret_key, function, "{}");
    const HttpResult anon = call("shop", shop.publishable_key, function, "{}");
    const HttpResult user = call("shop", shop.publishable_key, function, "{}", jane);
    for (const HttpResult& r : {secret, anon, user}) {
      EXPECT_EQ(r.status, 404) << function << ": " << r.body;
      EXPECT_EQ(r.body.find("blog secret"), std::string::npos) << r.body;
    }
  }
  EXPECT_NE(call("shop", shop.secret_key, "blog_app.all_posts", "{}").body.find("PGRST106"), std::string::npos);
  // shop's user against blog's endpoint: another project's token.
  const HttpResult foreign = call("blog", blog.publishable_key, "all_posts", "{}", jane);
  EXPECT_EQ(foreign.status, 403);
  EXPECT_EQ(foreign.body.find("blog secret"), std::string::npos);
  // shop's keys against blog's endpoint: not blog's keys.
  EXPECT_EQ(call("blog", shop.secret_key, "all_posts", "{}").status, 401);
}

TEST_F(RpcIsolation, ASchemaIsExposedByOneProjectAtMost) {
  const auto [code, output] = settings("blog", R"(exposed_schemas=["blog_app","shop_app"])");
  EXPECT_NE(code, 0);
  EXPECT_NE(output.find("schema shop_app is already exposed by project shop"), std::string::npos) << output;
  for (const char* bad : {R"(exposed_schemas=["auth"])", R"(exposed_schemas=["pg_catalog"])",
                          R"(exposed_schemas=["Shop App"])", R"(exposed_schemas="shop_app")",
                          R"(exposed_schemas=["x","x"])"}) {
    const auto [bad_code, bad_output] = settings("blog", bad);
    EXPECT_NE(bad_code, 0) << bad;
    EXPECT_NE(bad_output.find("exposed_schemas"), std::string::npos) << bad_output;
  }
  EXPECT_EQ(a.db->scalar("SELECT settings->>'exposed_schemas' FROM auth.projects WHERE ref = 'blog'"),
            R"(["blog_app"])") << "refused changes changed nothing";
  // A project without exposed schemas has no RPC.
  TestProject bare = create_project("bare", true, config);
  const HttpResult none = call("bare", bare.secret_key, "whoami", "{}");
  EXPECT_EQ(none.status, 404);
  EXPECT_NE(none.body.find("exposes no schema"), std::string::npos) << none.body;
}

// rest.conninfo pointing at a role that may do more (here the test's
// superuser): authd refuses to run calls on it rather than run them unsafely.
class RpcUnsafeRole : public RpcIsolation {
 protected:
  void SetUp() override { start("rest:\n  conninfo: " + a.db->conninfo() + "\n"); }
};

TEST_F(RpcUnsafeRole, AnOverPrivilegedLoginIsRefused) {
  const HttpResult r = as_user(jane, "add_note", R"({"note": "should not run"})");
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_NE(r.body.find("rpc_unavailable"), std::string::npos) << r.body;
  EXPECT_EQ(a.db->scalar("SELECT count(*) FROM shop_app.notes"), "0");
}

}  // namespace
}  // namespace orbitnest::test
