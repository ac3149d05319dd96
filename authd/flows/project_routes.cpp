#include "authd/flows/project_routes.h"

#include <stdexcept>
#include <string>

#include "authd/api/api_error.h"
#include "authd/api/json_body.h"
#include "authd/flows/cors.h"
#include "authd/rest/rpc.h"
#include "systemd/log.h"

namespace orbitnest::authd {
namespace {

// OPTIONS: the project's CORS answer (its allowed origins are settings).
Response preflight(AuthServices&, const ProjectCall& c) { return preflight_response(c.req, c.project.settings); }

Response project_health(AuthServices& s, const ProjectCall&) { return s.health(); }

// POST /token: only the password grant waits for Argon2id.
Execution token_execution(const Request& req) {
  return query_param(req, "grant_type") == "password" ? Execution::password : Execution::blocking;
}

constexpr ErrorShape kGoTrue = ErrorShape::gotrue_legacy;
constexpr ErrorShape kPostgrest = ErrorShape::postgrest;
constexpr Execution kWorkers = Execution::blocking;
constexpr Execution kHashing = Execution::password;

// clang-format off
constexpr ProjectRouteSpec kRoutes[] = {
//  name              method     path                               access                 rate               body           cors   errors      pool      open flow        user flow
  {"signup",         "POST",    "/auth/v1/signup",                  Access::api_key,       RateClass::signup, kAuthJsonBody, true,  kGoTrue,    kHashing, signup,          nullptr},
  {"otp",            "POST",    "/auth/v1/otp",                     Access::api_key,       RateClass::otp,    kAuthJsonBody, true,  kGoTrue,    kWorkers, otp,             nullptr},
  {"resend",         "POST",    "/auth/v1/resend",                  Access::api_key,       RateClass::otp,    kAuthJsonBody, true,  kGoTrue,    kWorkers, resend,          nullptr},
  {"recover",        "POST",    "/auth/v1/recover",                 Access::api_key,       RateClass::otp,    kAuthJsonBody, true,  kGoTrue,    kWorkers, recover,         nullptr},
  {"verify",         "POST",    "/auth/v1/verify",                  Access::open,          RateClass::verify, kAuthJsonBody, true,  kGoTrue,    kWorkers, verify,          nullptr},
  {"token",          "POST",    "/auth/v1/token",                   Access::api_key,       RateClass::token,  kAuthJsonBody, true,  kGoTrue,    kWorkers, token,           nullptr, token_execution},
  {"user.get",       "GET",     "/auth/v1/user",                    Access::project_user,  RateClass::none,   kNoBody,       true,  kGoTrue,    kWorkers, nullptr,         get_user},
  {"user.update",    "PUT",     "/auth/v1/user",                    Access::project_user,  RateClass::otp,    kAuthJsonBody, true,  kGoTrue,    kHashing, nullptr,         put_user},
  {"reauthenticate", "GET",     "/auth/v1/reauthenticate",          Access::project_user,  RateClass::otp,    kNoBody,       true,  kGoTrue,    kWorkers, nullptr,         reauthenticate},
  {"logout",         "POST",    "/auth/v1/logout",                  Access::project_user,  RateClass::none,   kAuthJsonBody, true,  kGoTrue,    kWorkers, nullptr,         logout},
  {"settings",       "GET",     "/auth/v1/settings",                Access::api_key,       RateClass::none,   kNoBody,       true,  kGoTrue,    kWorkers, settings,        nullptr},
  {"jwks",           "GET",     "/auth/v1/.well-known/jwks.json",   Access::open,          RateClass::none,   kNoBody,       true,  kGoTrue,    kWorkers, jwks,            nullptr},
  {"health",         "GET",     "/auth/v1/health",                  Access::open,          RateClass::none,   kNoBody,       true,  kGoTrue,    kWorkers, project_health,  nullptr},
  {"auth.preflight", "OPTIONS", "/auth/v1/*",                       Access::open,          RateClass::none,   kNoBody,       true,  kGoTrue,    kWorkers, preflight,       nullptr},
  {"rest.rpc",       "POST",    "/rest/v1/rpc/{function}",          Access::api_key,       RateClass::none,   0x10000,       true,  kPostgrest, kWorkers, rpc,             nullptr},
  {"rest.preflight", "OPTIONS", "/rest/v1/*",                       Access::open,          RateClass::none,   kNoBody,       true,  kPostgrest, kWorkers, preflight,       nullptr},
};
// clang-format on

// libpqxx 6 often leaves sqlstate() empty for these: the message says it.
bool database_going_away(const pqxx::sql_error& e) {
  const std::string state = e.sqlstate();
  if (state.rfind("57P", 0) == 0 || state.rfind("08", 0) == 0) {
    return true;
  }
  const std::string_view what = e.what();
  return what.find("terminating connection") != std::string_view::npos ||
         what.find("server closed the connection") != std::string_view::npos ||
         what.find("the database system is") != std::string_view::npos;
}

ApiError unavailable(const char* message, int retry_after) {
  ApiError e(503, "service_unavailable", message);
  e.retry_after = retry_after;
  return e;
}

// "/projects/<ref>/..." -> "<ref>"
std::string ref_of(const std::string& path) {
  const std::size_t start = std::string("/projects/").size();
  return path.substr(start, path.find('/', start) - start);
}

void check_row(const ProjectRouteSpec& r) {
  const bool wants_user = r.access == Access::project_user;
  if ((r.user_flow != nullptr) != wants_user || (r.open_flow != nullptr) == wants_user) {
    throw std::logic_error("route " + std::string(r.name) + ": its flow does not fit its access");
  }
  if (r.rate == RateClass::unset) {
    throw std::logic_error("route " + std::string(r.name) + ": no rate class (say RateClass::none)");
  }
}

// The adapter: applies one row to a request, then runs its flow.
Handler adapt(AuthServices& s, const ProjectRouteSpec& row) {
  return [&s, &row](const Request& req) {
    Response r;
    std::shared_ptr<const Project> project;
    try {
      project = s.projects.find(ref_of(req.path));
      if (!project) {
        throw ApiError(404, "project_not_found", "No project with this ref");
      }
      const ApiKeyKind key = s.projects.classify_api_key(*project, api_key_of(req));
      if (row.access != Access::open && key == ApiKeyKind::none) {
        throw ApiError(401, "no_api_key",
                       api_key_of(req).empty() ? "No API key found in request" : "Invalid API key");
      }
      const ProjectCall call{req, *project, key};
      if (row.rate != RateClass::none) {
        limit_ip(s, call, rate_class_name(row.rate));
      }
      if (row.access == Access::project_user) {
        Authenticated who;
        {
          PgPool::Lease conn = s.pg.lease();
          pqxx::nontransaction q(*conn);  // one read: the user, if the session is alive
          who = authenticate(s, q, call);
        }
        r = row.user_flow(s, call, who);
      } else {
        r = row.open_flow(s, call);
      }
    } catch (const ApiError& e) {
      r = render_error(req, row.errors, e);
    } catch (const keyd::KeydUnavailable& e) {
      log::error("authd.keyd_unavailable", {{"request_id", req.request_id}, {"reason", e.what()}});
      s.keyd.report_down(e.what());
      r = render_error(req, row.errors, unavailable("The key service is unavailable; retry shortly", 5));
    } catch (const PoolExhausted&) {
      ApiError busy(503, "over_capacity", "Server is busy; retry shortly");
      busy.retry_after = 1;
      r = render_error(req, row.errors, busy);
    } catch (const pqxx::broken_connection& e) {
      log::error("authd.database_unavailable", {{"request_id", req.request_id}, {"reason", e.what()}});
      r = render_error(req, row.errors, unavailable("The database is unavailable; retry shortly", 5));
    } catch (const pqxx::in_doubt_error& e) {
      // The connection broke during COMMIT: nothing known to have changed
      // that a retry could not repeat safely (rotation, codes are atomic).
      log::error("authd.database_unavailable", {{"request_id", req.request_id}, {"reason", e.what()}});
      r = render_error(req, row.errors, unavailable("The database is unavailable; retry shortly", 1));
    } catch (const pqxx::sql_error& e) {
      if (!database_going_away(e)) {
        throw;  // a real failure: 500, logged by the HTTP layer
      }
      // A server shutting down or crashing ends its sessions with an error
      // first (SQLSTATE 57P01/57P02/57P03): a 503, which clients retry —
      // a 500 would make auth-js sign its user out.
      log::error("authd.database_unavailable", {{"request_id", req.request_id}, {"reason", e.what()}});
      r = render_error(req, row.errors, unavailable("The database is unavailable; retry shortly", 1));
    }
    if (project && row.project_cors) {
      add_cors(req, project->settings, r);
    }
    return r;
  };
}

}  // namespace

std::string_view rate_class_name(RateClass c) {
  switch (c) {
    case RateClass::signup: return "signup";
    case RateClass::otp: return "otp";
    case RateClass::verify: return "verify";
    case RateClass::token: return "token";
    case RateClass::none: return "none";
    case RateClass::unset: break;
  }
  return "unset";
}

std::span<const ProjectRouteSpec> project_route_specs() { return kRoutes; }

void register_project_routes(RouteTable& routes, AuthServices& s) {
  for (const ProjectRouteSpec& row : kRoutes) {
    check_row(row);
    routes.add(Route{std::string(row.method), "/projects/{ref}" + std::string(row.path), row.execution, adapt(s, row),
                     row.execution_for, std::string(row.name), row.body_limit});
  }
}

}  // namespace orbitnest::authd
