#pragma once
// One row per route, for every surface (project API, admin API): the row
// carries the policy — who may call it, which per-IP budget it counts
// against, its body limit, its CORS answer, its error shape and its pool —
// so that a reader sees at a glance who may call what. The surfaces'
// adapters (project_routes.cpp, admin_routes.cpp) enforce a row through
// run_route(); flows only do their protocol.
#include <cstddef>
#include <functional>
#include <span>
#include <string_view>

#include "authd/flows/auth_api.h"

namespace orbitnest::authd {

// Who may call a route. none: anyone. api_key: a caller with the project's
// API key. project_user: a signed-in user of this project (token verified
// for this project's keyring, issuer and audience; session alive; not
// banned). admin: a signed-in admin (the admin keyring, issuer, audience).
// The _aal2 forms also need a session raised by a second factor.
enum class Access { none, api_key, project_user, project_user_aal2, admin, admin_aal2 };
std::string_view access_name(Access a);

// The per-IP budget (the realm's ip_requests_per_hour) a route's requests
// count against. none is a decision; unset is a mistake the tests catch.
enum class RateClass { unset, none, signup, otp, verify, token, refresh, mfa, admin };
std::string_view rate_class_name(RateClass c);

// A route's CORS answer: the project's allowed origins (cors.h), or none
// at all — the admin API is for its own origin only.
enum class CorsPolicy { project_origins, same_origin };

// operations: the metrics listener's /metrics and /health/* (no realm, no caller).
enum class Surface { project, admin, operations };

// A flow for routes that need no signed-in caller, one handed a project's
// signed-in user, and one handed a signed-in admin: a row's access decides
// which it must be, and the principal types keep them apart.
using OpenFlow = Response (*)(AuthServices&, const RealmCall&);
using ProjectUserFlow = Response (*)(AuthServices&, const RealmCall&, const ProjectUser&);
using AdminFlow = Response (*)(AuthServices&, const RealmCall&, const AdminUser&);

// A flow written once for every realm, served by a table to one principal
// type: served_to<ProjectUser, logout> in the project table,
// served_to<AdminUser, logout> in the admin table.
template <class Principal, Response (*Flow)(AuthServices&, const RealmCall&, const SignedIn&)>
Response served_to(AuthServices& s, const RealmCall& c, const Principal& who) {
  return Flow(s, c, who);
}

// POST /token on every surface: only the password grant waits for Argon2id,
// and a refresh counts against a budget of its own (a flood of junk
// sign-ins from one address must not sign out everyone behind it).
Execution token_execution(const Request& req);
RateClass token_rate(const Request& req);

inline constexpr std::size_t kNoBody = 0;
inline constexpr std::size_t kAuthJsonBody = 16 * 1024;  // user_metadata's 8 KiB and the rest
inline constexpr std::size_t kPasskeyBody = 64 * 1024;   // an attestation with its certificate chain

struct RouteSpec {
  std::string_view name;    // stable, for logs and metrics
  std::string_view method;
  std::string_view path;    // below the surface's prefix
  Access access;
  RateClass rate;
  std::size_t body_limit;   // bytes (kNoBody: none may be sent); never above http.body_limit_bytes
  CorsPolicy cors;
  ErrorShape errors;        // gotrue_legacy: GoTrue's shapes (2024 when asked); postgrest
  Execution execution;
  OpenFlow open_flow = nullptr;  // exactly one of the three, as access says
  ProjectUserFlow user_flow = nullptr;
  AdminFlow admin_flow = nullptr;
  Execution (*execution_for)(const Request&) = nullptr;  // when set, picks the pool per request
  RateClass (*rate_for)(const Request&) = nullptr;       // when set, picks the budget per request
};

// Throws std::logic_error for a row that is not well formed on `surface`:
// an access the surface does not serve, a flow that does not fit the
// access, a missing rate class, a body where none may be sent.
void check_route_spec(Surface surface, const RouteSpec& row);

// Adds every row of a surface's table to `routes` under `prefix`, each
// through the surface's adapter, after check_route_spec() (which throws
// for a row that is not well formed: authd does not start).
void add_route_table(RouteTable& routes, Surface surface, std::string_view prefix, std::span<const RouteSpec> rows,
                     const std::function<Handler(const RouteSpec&)>& adapt);

// Applies `row` to a request of `call`'s realm: the per-IP budget, the
// caller's authentication as the row's access says, then the flow. The
// surface has already resolved the realm and, for api_key rows, checked
// the key. Throws what the flow throws.
Response run_route(AuthServices& s, const RouteSpec& row, const RealmCall& call);
// Runs `work` (a surface's resolution and run_route()) and turns every
// failure into an error in the row's shape: ApiError as it says, 503 for
// keyd, Postgres or pool trouble; anything else propagates (a 500).
Response answer_errors(AuthServices& s, const RouteSpec& row, const Request& req,
                       const std::function<Response()>& work);

}  // namespace orbitnest::authd
