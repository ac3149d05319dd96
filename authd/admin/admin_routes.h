#pragma once
// The admin API's route table (/admin/v1/...), served on its own listener
// (authd.yaml admin.listen) from a RouteTable of its own: no admin route
// exists on the project port, no project route on the admin port. Rows are
// RouteSpecs (route_spec.h) whose access is none, admin or admin_aal2; the
// realm is always the admin realm; CORS is strict (same origin only).
#include <span>

#include "authd/flows/route_spec.h"

namespace orbitnest::authd {

std::span<const RouteSpec> admin_route_specs();

// Adds every row to `routes` through the admin adapter. Throws
// std::logic_error for a row that is not well formed (check_route_spec()).
void register_admin_routes(RouteTable& routes, AuthServices& s);

}  // namespace orbitnest::authd
