#include "authd/ops/operations_routes.h"

#include "authd/ops/metrics.h"

namespace orbitnest::authd {
namespace {

Response metrics(AuthServices& s, const RealmCall&) {
  Response r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = s.metrics != nullptr ? s.metrics->render() : std::string();
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

// Live: this process answers (a supervisor restarts it when not).
Response live(AuthServices&, const RealmCall&) {
  Response r;
  r.body = R"({"status":"live"})";
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

// Ready: keyd and Postgres answer too (a load balancer sends traffic).
Response ready(AuthServices& s, const RealmCall&) { return s.health(); }

constexpr ErrorShape kGoTrue = ErrorShape::gotrue_legacy;
constexpr Execution kWorkers = Execution::blocking;
constexpr CorsPolicy kSameOrigin = CorsPolicy::same_origin;

// clang-format off
// /metrics first: see register_operations_routes().
constexpr RouteSpec kRoutes[] = {
//  name               method  path             access        rate             body     cors         errors   pool      open flow
  {"ops.metrics",      "GET",  "/metrics",      Access::none, RateClass::none, kNoBody, kSameOrigin, kGoTrue, kWorkers, metrics},
  {"ops.health.live",  "GET",  "/health/live",  Access::none, RateClass::none, kNoBody, kSameOrigin, kGoTrue, Execution::inline_io, live},
  {"ops.health.ready", "GET",  "/health/ready", Access::none, RateClass::none, kNoBody, kSameOrigin, kGoTrue, kWorkers, ready},
};
// clang-format on

}  // namespace

std::span<const RouteSpec> operations_route_specs() { return kRoutes; }

void register_operations_routes(RouteTable& routes, AuthServices& s, bool with_metrics) {
  // /metrics is the first row: the public listener gets the probes only.
  const std::span<const RouteSpec> rows = with_metrics ? std::span<const RouteSpec>(kRoutes)
                                                       : std::span<const RouteSpec>(kRoutes).subspan(1);
  // No realm: the rows take no caller and no budget; run_route gets the
  // admin realm only because a call names one (nothing reads it here).
  add_route_table(routes, Surface::operations, "", rows, [&s](const RouteSpec& row) -> Handler {
    return [&s, &row](const Request& req) {
      return answer_errors(s, row, req,
                           [&] { return run_route(s, row, RealmCall{req, s.admin_realm, ApiKeyKind::none, nullptr}); });
    };
  });
}

}  // namespace orbitnest::authd
