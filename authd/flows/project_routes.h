#pragma once
// The project API's route table (/projects/{ref}/...): one RouteSpec row
// per route (route_spec.h). Its adapter resolves the project the path
// names, checks the API key of api_key rows, enforces the row and answers
// the project's CORS policy.
#include <span>

#include "authd/flows/route_spec.h"

namespace orbitnest::authd {

// Every route of the project surface.
std::span<const RouteSpec> project_route_specs();

// Adds every row of project_route_specs() to `routes`, each through the
// adapter that enforces it. Throws std::logic_error for a row that is not
// well formed (check_route_spec()).
void register_project_routes(RouteTable& routes, AuthServices& s);

}  // namespace orbitnest::authd
