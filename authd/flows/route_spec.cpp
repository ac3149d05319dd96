#include "authd/flows/route_spec.h"

#include <stdexcept>
#include <string>

#include "authd/api/api_error.h"
#include "authd/ops/metrics.h"
#include "systemd/log.h"

namespace orbitnest::authd {
namespace {

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

bool serves(Surface surface, Access a) {
  if (surface == Surface::operations) {
    return a == Access::none;
  }
  switch (a) {
    case Access::none: return true;
    case Access::api_key:
    case Access::project_user:
    case Access::project_user_aal2: return surface == Surface::project;
    case Access::admin:
    case Access::admin_aal2: return surface == Surface::admin;
  }
  return false;
}

bool wants_project_user(Access a) { return a == Access::project_user || a == Access::project_user_aal2; }
bool wants_admin(Access a) { return a == Access::admin || a == Access::admin_aal2; }

void require_aal2(const SignedIn& who) {
  if (who.aal() != "aal2") {
    throw ApiError(403, "insufficient_aal", "AAL2 session is required to call this endpoint");
  }
}

SignedIn signed_in(AuthServices& s, const RealmCall& call) {
  PgPool::Lease conn = s.pg.lease();
  pqxx::nontransaction q(*conn);  // one read: the user, if the session is alive
  return authenticate(s, q, call);
}

}  // namespace

Response run_route(AuthServices& s, const RouteSpec& row, const RealmCall& call) {
  const RateClass rate = row.rate_for != nullptr ? row.rate_for(call.req) : row.rate;
  if (rate != RateClass::none) {
    limit_ip(s, call, rate_class_name(rate));
  }
  if (wants_project_user(row.access)) {
    if (call.realm.kind != RealmKind::project) {
      throw std::logic_error("route " + std::string(row.name) + ": a project user's route called for " +
                             call.realm.name());
    }
    const ProjectUser who(signed_in(s, call));
    if (row.access == Access::project_user_aal2) {
      require_aal2(who);
    }
    return row.user_flow(s, call, who);
  }
  if (wants_admin(row.access)) {
    if (call.realm.kind != RealmKind::admin) {
      throw std::logic_error("route " + std::string(row.name) + ": an admin route called for " + call.realm.name());
    }
    const AdminUser who(signed_in(s, call));
    if (row.access == Access::admin_aal2) {
      require_aal2(who);
    }
    return row.admin_flow(s, call, who);
  }
  return row.open_flow(s, call);
}

void add_route_table(RouteTable& routes, Surface surface, std::string_view prefix, std::span<const RouteSpec> rows,
                     const std::function<Handler(const RouteSpec&)>& adapt) {
  for (const RouteSpec& row : rows) {
    check_route_spec(surface, row);
    routes.add(Route{std::string(row.method), std::string(prefix) + std::string(row.path), row.execution, adapt(row),
                     row.execution_for, std::string(row.name), row.body_limit});
  }
}

Execution token_execution(const Request& req) {
  return query_param(req, "grant_type") == "password" ? Execution::password : Execution::blocking;
}

RateClass token_rate(const Request& req) {
  return query_param(req, "grant_type") == "refresh_token" ? RateClass::refresh : RateClass::token;
}

std::string_view access_name(Access a) {
  switch (a) {
    case Access::none: return "none";
    case Access::api_key: return "api_key";
    case Access::project_user: return "project_user";
    case Access::project_user_aal2: return "project_user_aal2";
    case Access::admin: return "admin";
    case Access::admin_aal2: return "admin_aal2";
  }
  return "?";
}

std::string_view rate_class_name(RateClass c) {
  switch (c) {
    case RateClass::signup: return "signup";
    case RateClass::otp: return "otp";
    case RateClass::verify: return "verify";
    case RateClass::token: return "token";
    case RateClass::refresh: return "refresh";
    case RateClass::mfa: return "mfa";
    case RateClass::admin: return "admin";
    case RateClass::none: return "none";
    case RateClass::unset: break;
  }
  return "unset";
}

void check_route_spec(Surface surface, const RouteSpec& r) {
  const std::string name(r.name);
  if (!serves(surface, r.access)) {
    throw std::logic_error("route " + name + ": access " + std::string(access_name(r.access)) +
                           " is not served on this surface");
  }
  const int flows = (r.open_flow != nullptr) + (r.user_flow != nullptr) + (r.admin_flow != nullptr);
  const bool fits = wants_project_user(r.access) ? r.user_flow != nullptr
                    : wants_admin(r.access)      ? r.admin_flow != nullptr
                                                 : r.open_flow != nullptr;
  if (flows != 1 || !fits) {
    throw std::logic_error("route " + name + ": its flow does not fit its access");
  }
  if (r.rate == RateClass::unset) {
    throw std::logic_error("route " + name + ": no rate class (say RateClass::none)");
  }
  if ((r.method == "GET" || r.method == "OPTIONS" || r.method == "DELETE") && r.body_limit != kNoBody) {
    throw std::logic_error("route " + name + ": a " + std::string(r.method) + " reads no body");
  }
  if (surface == Surface::admin && r.cors != CorsPolicy::same_origin) {
    throw std::logic_error("route " + name + ": the admin API answers no cross-origin request");
  }
}

Response answer_errors(AuthServices& s, const RouteSpec& row, const Request& req,
                       const std::function<Response()>& work) {
  try {
    return work();
  } catch (const ApiError& e) {
    if (e.status() == 429 && s.metrics != nullptr) {
      s.metrics->rate_limited(rate_class_name(row.rate_for != nullptr ? row.rate_for(req) : row.rate), e.code());
    }
    return render_error(req, row.errors, e);
  } catch (const keyd::KeydUnavailable& e) {
    log::error("authd.keyd_unavailable", {{"request_id", req.request_id}, {"reason", e.what()}});
    s.keyd.report_down(e.what());
    return render_error(req, row.errors, unavailable("The key service is unavailable; retry shortly", 5));
  } catch (const PoolExhausted&) {
    ApiError busy(503, "over_capacity", "Server is busy; retry shortly");
    busy.retry_after = 1;
    return render_error(req, row.errors, busy);
  } catch (const pqxx::broken_connection& e) {
    log::error("authd.database_unavailable", {{"request_id", req.request_id}, {"reason", e.what()}});
    return render_error(req, row.errors, unavailable("The database is unavailable; retry shortly", 5));
  } catch (const pqxx::in_doubt_error& e) {
    // The connection broke during COMMIT: nothing known to have changed
    // that a retry could not repeat safely (rotation, codes are atomic).
    log::error("authd.database_unavailable", {{"request_id", req.request_id}, {"reason", e.what()}});
    return render_error(req, row.errors, unavailable("The database is unavailable; retry shortly", 1));
  } catch (const pqxx::sql_error& e) {
    if (!database_going_away(e)) {
      throw;  // a real failure: 500, logged by the HTTP layer
    }
    // A server shutting down or crashing ends its sessions with an error
    // first (SQLSTATE 57P01/57P02/57P03): a 503, which clients retry —
    // a 500 would make auth-js sign its user out.
    log::error("authd.database_unavailable", {{"request_id", req.request_id}, {"reason", e.what()}});
    return render_error(req, row.errors, unavailable("The database is unavailable; retry shortly", 1));
  }
}

}  // namespace orbitnest::authd
