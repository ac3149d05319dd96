#pragma once
// The project API's route table (/projects/{ref}/...): one row per route,
// and the row carries the policy — who may call it, which per-IP budget
// it counts against, its body limit, its CORS answer, its error shape and
// its pool — so that a reader sees at a glance who may call what. One
// adapter applies a row; flows only do their protocol.
#include <cstddef>
#include <span>
#include <string_view>

#include "authd/flows/auth_api.h"

namespace orbitnest::authd {

// Who may call a route: anyone (open), a caller with the project's API key,
// or a signed-in user of this project (their access token verified for
// this project's keyring, issuer and audience, session alive, not banned).
enum class Access { open, api_key, project_user };

// The per-IP budget (a project's ip_requests_per_hour) a route's requests
// count against. none is a decision; unset is a mistake the tests catch.
enum class RateClass { unset, none, signup, otp, verify, token };
std::string_view rate_class_name(RateClass c);

// A flow for routes anyone (or any key holder) may call, and one that is
// handed the signed-in user: a row's access decides which it must be.
using OpenFlow = Response (*)(AuthServices&, const ProjectCall&);
using UserFlow = Response (*)(AuthServices&, const ProjectCall&, const Authenticated&);

inline constexpr std::size_t kNoBody = 0;
inline constexpr std::size_t kAuthJsonBody = 16 * 1024;  // user_metadata's 8 KiB and the rest

struct ProjectRouteSpec {
  std::string_view name;    // stable, for logs and metrics
  std::string_view method;
  std::string_view path;    // below /projects/{ref}
  Access access;
  RateClass rate;
  std::size_t body_limit;   // bytes (kNoBody: none may be sent); never above http.body_limit_bytes
  bool project_cors;        // answers the project's allowed origins (see cors.h)
  ErrorShape errors;        // gotrue_legacy: GoTrue's shapes (2024 when asked); postgrest
  Execution execution;
  OpenFlow open_flow;       // exactly one of the two, as access says
  UserFlow user_flow;
  Execution (*execution_for)(const Request&) = nullptr;
};

// Every route of the project surface.
std::span<const ProjectRouteSpec> project_route_specs();

// Adds every row of project_route_specs() to `routes`, each through the
// adapter that enforces it. Throws std::logic_error for a row that is not
// well formed (a flow that does not fit its access, a missing rate class).
void register_project_routes(RouteTable& routes, AuthServices& s);

}  // namespace orbitnest::authd
