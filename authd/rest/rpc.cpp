#include "authd/rest/rpc.h"

#include <boost/json.hpp>
#include <algorithm>
#include <chrono>
#include <optional>
#include <vector>

#include "authd/api/api_error.h"
#include "authd/api/json_body.h"
#include "systemd/log.h"

namespace orbitnest::authd {
namespace {

bool is_identifier(std::string_view s) {
  if (s.empty() || s.size() > 63) {
    return false;
  }
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
    if (!ok) {
      return false;
    }
  }
  return true;
}

// A JSON value as the text Postgres parses for the parameter.
std::optional<std::string> parameter_text(const boost::json::value& v) {
  if (v.is_null()) {
    return std::nullopt;
  }
  if (v.is_string()) {
    return std::string(v.as_string());
  }
  return boost::json::serialize(v);  // numbers, booleans, objects, arrays
}

// libpqxx 6 reports the SQLSTATE through the exception's type (sqlstate()
// is often empty there), so the classes are told apart by type.
[[noreturn]] void map_sql_error(const pqxx::sql_error& e, std::chrono::milliseconds timeout) {
  if (dynamic_cast<const pqxx::insufficient_privilege*>(&e) != nullptr || e.sqlstate() == "42501") {
    throw ApiError(403, "42501", "permission denied");
  }
  if (dynamic_cast<const pqxx::undefined_function*>(&e) != nullptr ||
      dynamic_cast<const pqxx::undefined_table*>(&e) != nullptr || e.sqlstate() == "42883") {
    throw ApiError(404, "PGRST202", "Could not find the function with these arguments in the exposed schemas");
  }
  if (dynamic_cast<const pqxx::plpgsql_raise*>(&e) != nullptr || e.sqlstate() == "P0001") {
    // A function's own RAISE: its message is meant for the caller.
    std::string message = e.what();
    message = message.substr(0, message.find('\n'));
    if (message.rfind("ERROR:  ", 0) == 0) {
      message = message.substr(8);
    }
    throw ApiError(400, "P0001", message);
  }
  if (e.sqlstate() == "57014" || std::string_view(e.what()).find("statement timeout") != std::string_view::npos) {
    // As PostgREST answers it, with the limit that was hit.
    throw ApiError(500, "57014", "canceling statement due to statement timeout (" +
                                     std::to_string(timeout.count()) + " ms, rest.statement_timeout_ms)");
  }
  if (dynamic_cast<const pqxx::integrity_constraint_violation*>(&e) != nullptr) {
    throw ApiError(400, "23000", "the data breaks a constraint");
  }
  if (dynamic_cast<const pqxx::data_exception*>(&e) != nullptr) {
    throw ApiError(400, "22000", "invalid input for this function");
  }
  const std::string message = e.what();
  if (message.find("row-level security") != std::string::npos) {
    throw ApiError(403, "42501", "permission denied");
  }
  log::error("authd.rpc_failed", {{"sqlstate", e.sqlstate()}});
  throw ApiError(500, "unexpected_failure", "the function failed");
}

}  // namespace

Response rpc(AuthServices& s, const RealmCall& c) {
  const std::vector<std::string>& exposed = c.project().settings.exposed_schemas;
  const std::string& path = c.req.path;
  std::string name = path.substr(path.rfind('/') + 1);
  std::string schema = exposed.empty() ? std::string() : exposed.front();
  if (const std::size_t dot = name.find('.'); dot != std::string::npos) {
    schema = name.substr(0, dot);
    name = name.substr(dot + 1);
  }
  if (!is_identifier(name) || (!schema.empty() && !is_identifier(schema))) {
    throw ApiError(400, "PGRST100", "function and schema names are identifiers: letters, digits and _");
  }
  // Only this project's own schemas (a schema belongs to one project at
  // most, policy 0006): another project's keys and users never reach them.
  if (std::find(exposed.begin(), exposed.end(), schema) == exposed.end()) {
    throw ApiError(404, "PGRST106",
                   exposed.empty() ? "This project exposes no schema (project setting exposed_schemas)"
                                   : "The schema must be one of the exposed schemas of this project");
  }
  const JsonBody body = JsonBody::parse(c.req);
  const boost::json::object args = body.all();

  std::string role = "anon";
  boost::json::object claims{{"role", "anon"}};
  if (c.key == ApiKeyKind::secret) {
    role = "service_role";
    claims = boost::json::object{{"role", "service_role"}};
  }
  // supabase-js sends the API key as the bearer too when nobody is signed
  // in: that is a key-only call, not a token to verify. The token is
  // checked on authd's own connection (it reads auth.*), before any SQL
  // runs as the caller on the RPC connection.
  const std::optional<std::string> bearer = bearer_token(c.req);
  if (bearer && *bearer != api_key_of(c.req)) {
    PgPool::Lease auth_conn = s.pg.lease();
    pqxx::read_transaction auth_tx(*auth_conn);
    const SignedIn a = authenticate(s, auth_tx, c);  // 401/403
    role = a.token.role;
    claims = a.token.claims;
  }
  if (role != "anon" && role != "authenticated" && role != "service_role") {
    throw ApiError(403, "42501", "the token's role may not call functions");
  }
  // auth.project(): the project the call is made for. A user token was
  // checked against this project's keys and issuer, so this is its ref
  // too (tokens from before the claim existed get it here).
  claims["ref"] = c.project().ref;

  std::string call = "\"" + schema + "\".\"" + name + "\"(";
  std::vector<std::optional<std::string>> params;
  params.emplace_back(boost::json::serialize(claims));
  int n = 1;
  for (const auto& kv : args) {
    if (!is_identifier(kv.key())) {
      throw ApiError(400, "PGRST100", "argument names are identifiers: letters, digits and _");
    }
    call += (n > 1 ? ", " : "") + std::string("\"") + std::string(kv.key()) + "\" => $" + std::to_string(n + 1);
    params.push_back(parameter_text(kv.value()));
    ++n;
  }
  call += ")";
  std::string result;
  s.rpc.use([&](pqxx::connection& conn) {
    pqxx::work tx(conn);
    // Which function: must exist in the schema. As in PostgREST, set-returning
    // results come back as an array of rows, others (a scalar, or one
    // composite row as an object) as the bare value.
    const pqxx::result fn = tx.exec_params(
        "SELECT p.proretset FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = $1 AND p.proname = $2 LIMIT 1",
        schema, name);
    if (fn.empty()) {
      throw ApiError(404, "PGRST202", "Could not find the function " + schema + "." + name + " in the exposed schemas");
    }
    const bool rows = fn[0][0].as<bool>();
    try {
      // The timeout is armed when the call's statement starts: a function
      // that changes statement_timeout itself does not lift it.
      tx.exec("SET LOCAL ROLE " + tx.quote_name(role) + "; SET LOCAL statement_timeout = " +
              std::to_string(s.rpc.statement_timeout().count()) + "; SET LOCAL search_path TO " +
              tx.quote_name(schema) + ", public");
      const std::string sql = "SELECT set_config('request.jwt.claims', $1, true), " +
                              (rows ? "(SELECT coalesce(json_agg(r), '[]'::json) FROM " + call + " r)::text"
                                    : "to_json(" + call + ")::text");
      const pqxx::row r = tx.exec_params1(sql, pqxx::prepare::make_dynamic_params(params));
      result = r[1].is_null() ? "null" : r[1].as<std::string>();
      tx.commit();
    } catch (const pqxx::sql_error& e) {
      map_sql_error(e, s.rpc.statement_timeout());
    }
  });
  Response resp;
  resp.body = result;
  return resp;
}

}  // namespace orbitnest::authd
