// The seed's RLS example over HTTPS: two users insert and read through an
// exposed function under their own JWT; each sees only their rows, anon
// none; forged tokens never reach Postgres; names are identifiers and
// values parameters.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "keyd/keyring/base64url.h"
#include "tests/support/authd_session.h"

namespace orbitnest::test {
namespace {

class RlsRpc : public ::testing::Test {
 protected:
  void SetUp() override {
    keyd = a.start_keyd();
    config = a.write_config("authd.yaml", a.authd_yaml());
    project = create_project("demo", true, config);
    other = create_project("other", true, config);
    // RPC reaches only the schemas a project exposes (none by default).
    ASSERT_EQ(run_command({ORBITNEST_AUTHD_BIN, "--config", config, "project", "settings", "demo",
                           R"(exposed_schemas=["public"])"}).first, 0);
    authd = a.start_authd({}, config);
    ASSERT_EQ(a.wait_for_status("/auth/v1/health", 200).status, 200);
    sql(R"sql(
      CREATE TABLE public.private_data (
        id serial PRIMARY KEY, owner_id uuid NOT NULL DEFAULT auth.uid(), note text NOT NULL);
      ALTER TABLE public.private_data ENABLE ROW LEVEL SECURITY;
      CREATE POLICY "users read own rows" ON private_data FOR SELECT USING (auth.uid() = owner_id);
      CREATE POLICY "users add own rows" ON private_data FOR INSERT WITH CHECK (auth.uid() = owner_id);
      GRANT SELECT, INSERT ON public.private_data TO authenticated, anon;
      GRANT USAGE ON SEQUENCE public.private_data_id_seq TO authenticated, anon;
      CREATE FUNCTION public.add_note(note text) RETURNS void LANGUAGE sql
        AS $$ INSERT INTO public.private_data (note) VALUES (note) $$;
      CREATE FUNCTION public.my_notes() RETURNS SETOF public.private_data LANGUAGE sql STABLE
        AS $$ SELECT * FROM public.private_data ORDER BY id $$;
      CREATE FUNCTION public.whoami() RETURNS text LANGUAGE sql STABLE AS $$ SELECT auth.role() $$;
      CREATE FUNCTION public.fail() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'nope'; END $$;
    )sql");
    jane = sign_up("jane@example.com", project);
    john = sign_up("john@example.com", project);
    stranger = sign_up("jane@example.com", other);
  }

  void sql(const std::string& text) const { a.db->exec(text); }
  std::string scalar(const std::string& text) const { return a.db->scalar(text); }
  std::string sign_up(const std::string& email, const TestProject& p) const {
    const std::string base = "/projects/" + p.ref + "/auth/v1";
    api(a, "POST", base + "/signup", R"({"email": ")" + email + "\"}", {"apikey: " + p.publishable_key});
    const HttpResult v = api(a, "POST", base + "/verify",
                             R"({"type": "signup", "email": ")" + email + R"(", "token": "1234"})");
    return std::string(boost::json::parse(v.body).at("access_token").as_string());
  }
  HttpResult call(const std::string& function, const std::string& args, const std::string& token = "") const {
    std::vector<std::string> headers = {"apikey: " + project.publishable_key};
    if (!token.empty()) {
      headers.push_back("Authorization: Bearer " + token);
    }
    return api(a, "POST", "/projects/demo/rest/v1/rpc/" + function, args, headers);
  }

  Appliance a;
  std::unique_ptr<ChildProcess> keyd;
  std::unique_ptr<ChildProcess> authd;
  std::string config;
  TestProject project;
  TestProject other;
  std::string jane;
  std::string john;
  std::string stranger;
};

TEST_F(RlsRpc, EachUserSeesOnlyTheirOwnRowsAndAnonNone) {
  EXPECT_EQ(call("add_note", R"({"note": "jane's"})", jane).status, 200);
  EXPECT_EQ(call("add_note", R"({"note": "john's"})", john).status, 200);
  const boost::json::array jane_rows = boost::json::parse(call("my_notes", "{}", jane).body).as_array();
  const boost::json::array john_rows = boost::json::parse(call("my_notes", "{}", john).body).as_array();
  ASSERT_EQ(jane_rows.size(), 1u);
  ASSERT_EQ(john_rows.size(), 1u);
  EXPECT_EQ(jane_rows[0].at("note").as_string(), "jane's");
  EXPECT_EQ(john_rows[0].at("note").as_string(), "john's");
  EXPECT_EQ(call("my_notes", "{}").body, "[]") << "anon sees nothing";
  EXPECT_EQ(call("whoami", "{}").body, "\"anon\"");
  EXPECT_EQ(call("whoami", "{}", jane).body, "\"authenticated\"");
  // anon may not add rows it could never own.
  EXPECT_EQ(call("add_note", R"({"note": "anon's"})").status, 403);
  EXPECT_EQ(scalar("SELECT count(*) FROM public.private_data"), "2");
}

TEST_F(RlsRpc, ForgedTokensAreRefusedBeforePostgres) {
  const std::string before = scalar("SELECT count(*) FROM public.private_data");
  const std::string unsigned_token = keyd::base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." +
                                     jane.substr(jane.find('.') + 1, jane.rfind('.') - jane.find('.') - 1) + ".";
  std::string payload = *keyd::base64url_decode(jane.substr(jane.find('.') + 1, jane.rfind('.') - jane.find('.') - 1));
  payload.replace(payload.find("\"role\":\"authenticated\""), 22, "\"role\":\"service_role\" ");
  const std::string edited =
      jane.substr(0, jane.find('.') + 1) + keyd::base64url_encode(payload) + jane.substr(jane.rfind('.'));
  for (const std::string& forged : {unsigned_token, edited, stranger}) {
    const HttpResult r = call("add_note", R"({"note": "forged"})", forged);
    EXPECT_EQ(r.status, 403) << r.body;
    EXPECT_NE(r.body.find("bad_jwt"), std::string::npos) << r.body;
  }
  EXPECT_EQ(scalar("SELECT count(*) FROM public.private_data"), before);
}

TEST_F(RlsRpc, NamesAreIdentifiersAndValuesParameters) {
  EXPECT_EQ(call("my_notes();DROP%20TABLE%20private_data;--", "{}", jane).status, 400);
  EXPECT_EQ(call("add_note", R"({"note\"; DROP TABLE private_data; --": "x"})", jane).status, 400);
  const std::string sneaky = "'); DROP TABLE public.private_data; --";
  EXPECT_EQ(call("add_note", R"({"note": ")" + sneaky + "\"}", jane).status, 200);
  EXPECT_EQ(scalar("SELECT note FROM public.private_data"), sneaky) << "stored verbatim, never executed";
  EXPECT_EQ(call("auth.uid", "{}", jane).status, 404) << "auth is never exposed";
  EXPECT_EQ(call("pg_catalog.version", "{}", jane).status, 404);
  EXPECT_EQ(call("no_such_function", "{}", jane).status, 404);
  const HttpResult raised = call("fail", "{}", jane);
  EXPECT_EQ(raised.status, 400);
  EXPECT_NE(raised.body.find("nope"), std::string::npos);
  EXPECT_EQ(raised.body.find("ERROR"), std::string::npos) << "no SQL detail beyond the code";
  EXPECT_EQ(call("add_note", "{\"note\": ", jane).status, 400);
  EXPECT_EQ(scalar("SELECT count(*) FROM public.private_data"), "1");
}

}  // namespace
}  // namespace orbitnest::test
