#pragma once
// The operations surface: what the operator's tools call, on the metrics
// listener (metrics.listen, off the public port) — GET /metrics, and the
// probes /health/live (the process answers) and /health/ready (keyd and
// Postgres answer too). The probes are on the public listener as well.
#include <span>

#include "authd/flows/route_spec.h"

namespace orbitnest::authd {

std::span<const RouteSpec> operations_route_specs();
// Every row on the operations listener's table; only the probes (not
// /metrics) on another listener's.
void register_operations_routes(RouteTable& routes, AuthServices& s, bool with_metrics);

}  // namespace orbitnest::authd
