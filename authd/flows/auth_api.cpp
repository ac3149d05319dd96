#include "authd/flows/auth_api.h"

#include <chrono>

#include "authd/api/api_error.h"
#include "authd/api/json_body.h"
#include "authd/flows/project_routes.h"
#include "authd/security/rate_limiter.h"

namespace orbitnest::authd {
std::string api_key_of(const Request& req) {
  const auto it = req.headers.find("apikey");
  if (it != req.headers.end()) {
    return it->second;
  }
  return query_param(req, "apikey").value_or("");
}

Response json_response(int status, const boost::json::value& body) {
  Response r;
  r.status = status;
  r.body = boost::json::serialize(body);
  return r;
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void limit_ip(AuthServices& s, const ProjectCall& c, std::string_view endpoint_class) {
  const std::string& client = c.req.remote_network.empty() ? c.req.remote_address : c.req.remote_network;
  s.ip_limits.hit("ip:" + std::string(endpoint_class) + ":" + c.project.ref + ":" + client,
                  c.project.settings.ip_requests_per_hour, 3600, "over_request_rate_limit", "Request rate limit reached");
}

std::string password_failure_key(const Project& p, const std::string& email) { return "pwfail:" + p.ref + ":" + email; }

void refuse_if_password_failures_reached(pqxx::transaction_base& q, const Project& p, const std::string& email) {
  if (rate_limit_reached(q, password_failure_key(p, email), kPasswordFailuresPerHour, 3600)) {
    ApiError e(429, "over_request_rate_limit", "Too many failed sign-ins for this account; try again later");
    e.retry_after = 900;
    throw e;
  }
}

void count_password_failure(pqxx::connection& conn, const Project& p, const std::string& email) {
  // Counted, not checked: the answer stays "wrong password"; the next try
  // is refused up front.
  add_hits(conn, {{password_failure_key(p, email), 1}}, 3600);
}

void check_password_policy(const Project& project, const std::string& password) {
  boost::json::array reasons;
  if (static_cast<int>(password.size()) < project.settings.password_min_length) {
    reasons.push_back("length");
  }
  if (project.settings.password_require_mixed) {
    bool lower = false, upper = false, digit = false;
    for (const char ch : password) {
      lower = lower || (ch >= 'a' && ch <= 'z');
      upper = upper || (ch >= 'A' && ch <= 'Z');
      digit = digit || (ch >= '0' && ch <= '9');
    }
    if (!(lower && upper && digit)) {
      reasons.push_back("characters");
    }
  }
  if (password.size() > 1024) {
    throw ApiError(400, "validation_failed", "Password is longer than 1024 bytes");
  }
  if (!reasons.empty()) {
    std::string message = "Password should be at least " + std::to_string(project.settings.password_min_length) +
                          " characters" +
                          (project.settings.password_require_mixed ? " and contain lower, upper case and digits." : ".");
    ApiError e(422, "weak_password", message);
    e.extra["weak_password"] = boost::json::object{{"message", message}, {"reasons", reasons}};
    throw e;
  }
}

Authenticated authenticate(AuthServices& s, pqxx::transaction_base& tx, const ProjectCall& c) {
  const std::optional<std::string> bearer = bearer_token(c.req);
  if (!bearer) {
    throw ApiError(401, "no_authorization", "This endpoint requires a valid Bearer token");
  }
  Authenticated a{s.verifier.verify(*bearer, c.project.keyring, c.project.issuer, "authenticated", unix_now()), {}};
  if (!is_uuid(a.token.user_id) || !is_uuid(a.token.session_id)) {
    throw ApiError(403, "bad_jwt", "invalid JWT: sub and session_id must be UUIDs");
  }
  // One round trip: the user, if the session still exists (sessions go with
  // their user, so no row means the session is gone).
  const pqxx::result r =
      tx.exec_prepared("authenticated_user", c.project.ref, a.token.user_id, a.token.session_id);
  if (r.empty()) {
    throw ApiError(403, "session_not_found", "Session from session_id claim in JWT does not exist");
  }
  a.user = user_from_row(r[0]);
  refuse_banned(a.user);
  return a;
}

void register_auth_routes(RouteTable& routes, AuthServices& s) {
  s.pg.prepare("authenticated_user",
               std::string("SELECT ") + kUserColumns +
                   " FROM auth.users WHERE project_ref = $1 AND id = $2::uuid AND EXISTS "
                   "(SELECT 1 FROM auth.sessions s WHERE s.id = $3::uuid AND s.user_id = auth.users.id)");
  prepare_rate_limiter(s.pg);
  SessionIssuer::prepare_statements(s.pg);
  register_project_routes(routes, s);
}

}  // namespace orbitnest::authd
