#include "authd/flows/auth_api.h"

#include <chrono>

#include "authd/api/api_error.h"
#include "authd/api/json_body.h"
#include "authd/flows/cors.h"
#include "authd/rest/rpc.h"
#include "authd/security/rate_limiter.h"
#include "systemd/log.h"

namespace orbitnest::authd {
namespace {

// "/projects/<ref>/auth/v1/..." -> "<ref>"
std::string ref_of(const std::string& path) {
  const std::size_t start = std::string("/projects/").size();
  return path.substr(start, path.find('/', start) - start);
}

}  // namespace

std::string api_key_of(const Request& req) {
  const auto it = req.headers.find("apikey");
  if (it != req.headers.end()) {
    return it->second;
  }
  return query_param(req, "apikey").value_or("");
}

namespace {

using Flow = Response (*)(AuthServices&, const ProjectCall&);

Handler project_route(AuthServices& s, bool needs_key, Flow flow) {
  return [&s, needs_key, flow](const Request& req) {
    Response r;
    std::shared_ptr<const Project> project;
    try {
      project = s.projects.find(ref_of(req.path));
      if (!project) {
        throw ApiError(404, "project_not_found", "No project with this ref");
      }
      const ApiKeyKind key = s.projects.classify_api_key(*project, api_key_of(req));
      if (needs_key && key == ApiKeyKind::none) {
        throw ApiError(401, "no_api_key",
                       api_key_of(req).empty() ? "No API key found in request" : "Invalid API key");
      }
      r = flow(s, ProjectCall{req, *project, key});
    } catch (const ApiError& e) {
      r = render_error(req, e);
    } catch (const keyd::KeydUnavailable& e) {
      log::error("authd.keyd_unavailable", {{"request_id", req.request_id}, {"reason", e.what()}});
      s.keyd.report_down(e.what());
      r = render_error(req, 503, "service_unavailable", "The key service is unavailable; retry shortly", 5);
    } catch (const PoolExhausted&) {
      r = render_error(req, 503, "over_capacity", "Server is busy; retry shortly", 1);
    } catch (const pqxx::broken_connection& e) {
      log::error("authd.database_unavailable", {{"request_id", req.request_id}, {"reason", e.what()}});
      r = render_error(req, 503, "service_unavailable", "The database is unavailable; retry shortly", 5);
    }
    if (project) {
      add_cors(req, project->settings, r);
    }
    return r;
  };
}

// OPTIONS: the project's CORS answer (its allowed origins are settings).
Response preflight(AuthServices&, const ProjectCall& c) { return preflight_response(c.req, c.project.settings); }

Response project_health(AuthServices& s, const ProjectCall&) { return s.health(); }

// POST /token: only the password grant waits for Argon2id.
Execution token_execution(const Request& req) {
  return query_param(req, "grant_type") == "password" ? Execution::password : Execution::blocking;
}

}  // namespace

Response json_response(int status, const boost::json::value& body) {
  Response r;
  r.status = status;
  r.body = boost::json::serialize(body);
  return r;
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void limit_ip(AuthServices& s, const ProjectCall& c, const char* endpoint_class) {
  s.ip_limits.hit(std::string("ip:") + endpoint_class + ":" + c.project.ref + ":" + c.req.remote_address,
                  c.project.settings.ip_requests_per_hour, 3600, "over_request_rate_limit", "Request rate limit reached");
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
  const std::string base = "/projects/{ref}/auth/v1";
  struct Entry {
    const char* method;
    const char* path;
    bool needs_key;
    Flow flow;
    Execution execution = Execution::blocking;
    Execution (*execution_for)(const Request&) = nullptr;
  };
  const Entry entries[] = {
      {"POST", "/signup", true, signup, Execution::password},
      {"POST", "/otp", true, otp},
      {"POST", "/resend", true, resend},
      {"POST", "/recover", true, recover},
      {"POST", "/verify", false, verify},
      {"POST", "/token", true, token, Execution::blocking, token_execution},
      {"GET", "/user", true, get_user},
      {"PUT", "/user", true, put_user, Execution::password},
      {"GET", "/reauthenticate", true, reauthenticate},
      {"POST", "/logout", true, logout},
      {"GET", "/settings", true, settings},
      {"GET", "/.well-known/jwks.json", false, jwks},
      {"GET", "/health", false, project_health},
  };
  for (const Entry& e : entries) {
    routes.add({e.method, base + e.path, e.execution, project_route(s, e.needs_key, e.flow), e.execution_for});
  }
  routes.add({"OPTIONS", base + "/*", Execution::blocking, project_route(s, false, preflight)});
  routes.add({"POST", "/projects/{ref}/rest/v1/rpc/{function}", Execution::blocking, project_route(s, true, rpc)});
  routes.add({"OPTIONS", "/projects/{ref}/rest/v1/*", Execution::blocking, project_route(s, false, preflight)});
}

}  // namespace orbitnest::authd
