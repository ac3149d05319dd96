#include "authd/flows/health.h"

#include <boost/json.hpp>

#include "config/version.h"
#include "systemd/log.h"

namespace orbitnest::authd {

PostgresHealth check_postgres(PgPool& pool) {
  try {
    PgPool::Lease conn = pool.lease();
    pqxx::nontransaction tx(*conn);
    const pqxx::result r = tx.exec("SELECT 1");
    return r.size() == 1 ? PostgresHealth::ok : PostgresHealth::down;
  } catch (const std::exception& e) {
    log::warning("authd.postgres_unhealthy", {{"problem", e.what()}});
    return PostgresHealth::down;
  }
}

Response health_response(KeydHealth keyd, PostgresHealth postgres) {
  const char* keyd_word = keyd == KeydHealth::ok ? "ok" : keyd == KeydHealth::not_ready ? "not_ready" : "down";
  const char* pg_word = postgres == PostgresHealth::ok ? "ok" : "down";
  const bool healthy = keyd == KeydHealth::ok && postgres == PostgresHealth::ok;
  boost::json::object body;
  body["name"] = "OrbitNest Auth";
  body["version"] = std::string(orbitnest::kVersion);
  body["status"] = healthy ? "ok" : "unavailable";
  body["keyd"] = boost::json::object{{"status", keyd_word}};
  body["postgres"] = boost::json::object{{"status", pg_word}};
  Response r;
  r.status = healthy ? 200 : 503;
  r.body = boost::json::serialize(body);
  r.headers.emplace_back("Cache-Control", "no-store");
  if (!healthy) {
    r.headers.emplace_back("Retry-After", "5");
  }
  return r;
}

}  // namespace orbitnest::authd
