#include "authd/ops/config_reload.h"

namespace orbitnest::authd {

ReloadPlan plan_reload(const config::AuthdConfig& running, const config::AuthdConfig& loaded) {
  config::AuthdConfig next = running;
  next.log_level = loaded.log_level;
  next.tls = loaded.tls;
  next.http.max_connections = loaded.http.max_connections;
  next.http.max_connections_per_ip = loaded.http.max_connections_per_ip;
  next.http.handshake_timeout_seconds = loaded.http.handshake_timeout_seconds;
  next.http.idle_timeout_seconds = loaded.http.idle_timeout_seconds;
  next.http.read_timeout_seconds = loaded.http.read_timeout_seconds;
  next.http.header_limit_bytes = loaded.http.header_limit_bytes;
  next.http.body_limit_bytes = loaded.http.body_limit_bytes;
  next.http.drain_timeout_seconds = loaded.http.drain_timeout_seconds;
  next.workers.max_queue_wait_ms = loaded.workers.max_queue_wait_ms;
  next.sessions.refresh_token_history_seconds = loaded.sessions.refresh_token_history_seconds;

  // Whatever still differs was not taken: it needs a restart.
  ReloadPlan plan;
  const auto differs = [&](const char* section, bool same) {
    if (!same) {
      plan.needs_restart.emplace_back(section);
    }
  };
  differs("listen", next.listen == loaded.listen);
  differs("admin", next.admin == loaded.admin);
  differs("metrics", next.metrics == loaded.metrics);
  differs("sessions", next.sessions == loaded.sessions);
  differs("keyd", next.keyd == loaded.keyd);
  differs("database", next.database == loaded.database);
  differs("http", next.http == loaded.http);
  differs("workers", next.workers == loaded.workers);
  differs("passwords", next.passwords == loaded.passwords);
  differs("rest", next.rest == loaded.rest);
  plan.next = std::make_shared<const config::AuthdConfig>(std::move(next));
  return plan;
}

}  // namespace orbitnest::authd
