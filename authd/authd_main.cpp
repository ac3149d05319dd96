// authd: the user-flow daemon. Thin main: parse arguments, load config,
// wire the pools, the keyd link and the route table, then serve HTTPS until
// SIGTERM drains it.
#include <atomic>
#include <csignal>
#include <iostream>
#include <thread>
#include <vector>
#include <string>

#include "authd/admin/admin_routes.h"
#include "authd/blocking_pool.h"
#include "authd/cli/project_cli.h"
#include "authd/db/migrations.h"
#include "authd/flows/auth_api.h"
#include "authd/mail/outbox_mailer.h"
#include "authd/ops/background_loop.h"
#include "authd/ops/config_reload.h"
#include "authd/oauth/social_providers.h"
#include "authd/ops/metrics.h"
#include "authd/stores/session_purge.h"
#include "authd/ops/operations_routes.h"
#include "authd/projects/project_store.h"
#include "authd/realms/admin_realm.h"
#include "authd/security/password_hasher.h"
#include "authd/tokens/jwks_cache.h"
#include "authd/db/pg_pool.h"
#include "authd/flows/health.h"
#include "authd/api/api_error.h"
#include "authd/http/http_server.h"
#include "authd/http/open_files_limit.h"
#include "authd/http/route_table.h"
#include "authd/keyd/keyd_link.h"
#include "config/authd_config.h"
#include "config/config_error.h"
#include "config/version.h"
#include "hardening/process_hardening.h"
#include "hardening/secret_bytes.h"
#include "systemd/log.h"
#include "systemd/notify.h"

namespace {

using namespace orbitnest;

struct Args {
  std::string config = "/etc/orbitnest/authd.yaml";
  bool check_config = false;
  std::vector<std::string> command;  // empty or "serve": run the daemon
};

int usage() {
  std::cerr << "usage: authd [--config FILE] [--check-config] [--version] [serve | migrate | project ... | admin ... | outbox list]\n";
  return 64;
}

// libpq conninfo value quoting: single quotes, backslash-escaped.
std::string quote_conninfo_value(const std::uint8_t* data, std::size_t size) {
  std::string out = "'";
  for (std::size_t i = 0; i < size; ++i) {
    const char c = static_cast<char>(data[i]);
    if (c == '\'' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + "'";
}

std::string build_conninfo(const config::AuthdDatabaseConfig& db) {
  std::string conninfo = db.conninfo + " connect_timeout=" + std::to_string(db.connect_timeout_seconds) +
                         " application_name=orbitnest-authd";
  if (db.password_file) {
    const hardening::SecretBytes password = hardening::read_secret_file(*db.password_file, 1024);
    conninfo += " password=" + quote_conninfo_value(password.data(), password.size());
  }
  return conninfo;
}

int run(const config::AuthdConfig& cfg, const std::string& config_path) {
  authd::PgPool pg(build_conninfo(cfg.database), cfg.database.pool_size, std::chrono::milliseconds(2000));
  authd::KeydLink keyd(cfg.keyd.socket_path, std::chrono::milliseconds(cfg.keyd.request_timeout_ms),
                       std::chrono::milliseconds(cfg.keyd.reconnect_max_backoff_ms),
                       static_cast<std::size_t>(std::min(cfg.workers.threads, 16)));
  authd::BlockingPool workers(cfg.workers.threads, cfg.workers.queue_limit);

  authd::JwksCache jwks(keyd);
  authd::ProjectStore projects(pg, keyd);
  // One core is left to everything else by default: Argon2id is
  // memory-hard, and on every core it slows the whole API (README).
  const int hashes = cfg.passwords.max_concurrent_hashes > 0
                         ? cfg.passwords.max_concurrent_hashes
                         : std::max(1, static_cast<int>(std::thread::hardware_concurrency()) - 1);
  authd::PasswordHasher passwords(
      keyd,
      authd::Argon2Params{static_cast<std::size_t>(cfg.passwords.argon2_memory_kib),
                          static_cast<std::size_t>(cfg.passwords.argon2_iterations),
                          static_cast<std::size_t>(cfg.passwords.argon2_parallelism)},
      std::max(1, hashes));
  authd::OutboxMailer mailer(pg, keyd);
  // Per-IP limits: counted here, added to Postgres four times a second.
  authd::SharedRateLimiter ip_limits(pg, std::chrono::milliseconds(250));
  // RPC calls log in as their own restricted role (rest.conninfo), never
  // as authd's; the password, if any, from rest.password_file.
  config::AuthdDatabaseConfig rpc_db = cfg.database;
  rpc_db.conninfo = cfg.rest.conninfo;
  rpc_db.password_file = cfg.rest.password_file;
  authd::RpcPool rpc(build_conninfo(rpc_db) + " application_name=orbitnest-authd-rpc", cfg.rest.pool_size,
                     std::chrono::milliseconds(cfg.rest.statement_timeout_ms));
  const auto health = [&] { return authd::health_response(keyd.check(), authd::check_postgres(pg)); };
  const authd::Realm admin_realm = authd::make_admin_realm(cfg.admin);
  authd::SocialProviders social(cfg.admin.oauth);  // reads the client secrets' files now
  authd::AuthServices services{pg,
                               keyd,
                               jwks,
                               projects,
                               passwords,
                               mailer,
                               ip_limits,
                               authd::AccessTokenVerifier(jwks),
                               authd::OneTimeCodes(keyd),
                               authd::SessionIssuer(keyd),
                               health,
                               rpc,
                               admin_realm};
  services.social = &social;

  authd::RouteTable routes;
  const authd::ErrorRenderer routes_error_renderer = [](const authd::Request& req, int status, std::string_view code,
                                                         std::string_view message) {
    return authd::render_error(req, status, code, message);
  };
  routes.set_error_renderer(routes_error_renderer);
  routes.add({"GET", "/auth/v1/health", authd::Execution::blocking, [&](const authd::Request&) { return health(); }});
  authd::register_auth_routes(routes, services);
  authd::register_operations_routes(routes, services, /*with_metrics=*/false);  // the probes
  // The admin API: a table of its own on a listener of its own.
  authd::RouteTable admin_routes;
  admin_routes.set_error_renderer(routes_error_renderer);
  authd::register_admin_routes(admin_routes, services);
  std::vector<authd::HttpListener> listeners{
      {"api", cfg.listen.address, cfg.listen.port, &routes, /*systemd_socket=*/true}};
  if (cfg.admin.enabled) {
    listeners.push_back({"admin", cfg.admin.listen.address, cfg.admin.listen.port, &admin_routes, false,
                         config::kAdminConnections});
  }
  // Operations: /metrics and the probes, off the public port.
  authd::RouteTable operations_routes;
  operations_routes.set_error_renderer(routes_error_renderer);
  authd::register_operations_routes(operations_routes, services, /*with_metrics=*/true);
  if (cfg.metrics.enabled) {
    listeners.push_back({"metrics", cfg.metrics.listen.address, cfg.metrics.listen.port, &operations_routes, false,
                         config::kOperationsConnections});
  }

  // Sign-ins, sign-ups and password changes wait for Argon2id here, never
  // on the workers above (see Execution::password).
  authd::BlockingPool password_workers(authd::PasswordHasher::waiting_limit(hashes), 256);
  authd::HttpServer server(cfg, std::move(listeners), workers, password_workers);
  authd::Metrics metrics({workers, password_workers, pg, keyd});
  // Housekeeping: expired sessions and old rotated refresh tokens go, in
  // bounded batches (at most 20 of each kind a round), on every node.
  std::atomic<int> token_history{cfg.sessions.refresh_token_history_seconds};  // a reload may change it
  const authd::BackgroundLoop housekeeping(
      "housekeeping", std::chrono::seconds(cfg.sessions.purge_interval_seconds), [&] {
        authd::PgPool::Lease conn = pg.lease();
        authd::PurgeCounts total;
        for (int round = 0; round < 20; ++round) {
          const authd::PurgeCounts n =
              authd::purge_expired_batch(*conn, admin_realm, token_history.load());
          total.sessions += n.sessions;
          total.refresh_tokens += n.refresh_tokens;
          if (n.sessions < authd::kPurgeBatch && n.refresh_tokens < authd::kPurgeBatch) {
            break;
          }
        }
        if (total.sessions > 0 || total.refresh_tokens > 0) {
          log::info("authd.purged", {{"sessions", total.sessions}, {"refresh_tokens", total.refresh_tokens}});
        }
      });
  services.metrics = &metrics;
  server.set_request_observer([&metrics](const authd::RequestObservation& r) { metrics.observe(r); });
  // SIGHUP: re-read authd.yaml; what can change without rebinding does,
  // the rest is named; a file that does not validate changes nothing.
  std::shared_ptr<const config::AuthdConfig> running = std::make_shared<const config::AuthdConfig>(cfg);
  server.set_reload_handler([&] {
    config::AuthdConfig loaded;
    try {
      loaded = config::load_authd_config(config_path);
    } catch (const config::ConfigError& e) {
      // A refusal over the TLS files keeps its own event (operators alert on it).
      log::error(e.key_path().rfind("tls.", 0) == 0 ? "authd.tls_reload_failed" : "authd.reload_refused",
                 {{"reason", e.what()}});
      return;
    }
    const authd::ReloadPlan plan = authd::plan_reload(*running, loaded);
    try {
      server.apply(plan.next);
    } catch (const std::exception& e) {
      // Keep serving with the old certificate rather than not at all.
      log::error("authd.tls_reload_failed", {{"reason", e.what()}});
      return;
    }
    log::set_level(*log::parse_level(plan.next->log_level));
    token_history.store(plan.next->sessions.refresh_token_history_seconds);
    running = plan.next;
    std::string restart;
    for (const std::string& section : plan.needs_restart) {
      restart += (restart.empty() ? "" : ",") + section;
      log::warning("authd.reload_needs_restart", {{"section", section}});
    }
    log::notice("authd.reloaded", {{"needs_restart", restart}});
  });
  server.listen();

  // READY=1 once keyd has answered a handshake and Postgres a query: until
  // then the health endpoint already answers (503), but the service manager
  // is not told we can serve.
  std::atomic<bool> postgres_seen{false};
  std::atomic<bool> postgres_check_queued{false};
  bool ready = false;
  const std::optional<std::chrono::microseconds> watchdog = sd::watchdog_period();
  std::chrono::milliseconds tick(500);
  if (watchdog) {
    tick = std::min(tick, std::chrono::duration_cast<std::chrono::milliseconds>(*watchdog));
  }
  server.run(tick, [&] {
    if (watchdog) {
      sd::notify_watchdog();
    }
    if (ready) {
      return;
    }
    if (!postgres_seen.load() && !postgres_check_queued.exchange(true)) {
      const bool queued = workers.try_submit([&] {
        // "Postgres answered" means: reachable and migrated to our schema.
        try {
          authd::PgPool::Lease conn = pg.lease();
          const authd::MigrationReport r = authd::apply_migrations(*conn);
          if (!r.applied.empty()) {
            log::notice("authd.migrated", {{"from", r.from_version}, {"to", r.to_version}});
          }
          postgres_seen.store(true);
        } catch (const authd::MigrationError& e) {
          log::error("authd.schema_too_new", {{"reason", e.what()}});
          server.drain();
        } catch (const std::exception& e) {
          log::warning("authd.migrations_waiting", {{"reason", e.what()}});
        }
        postgres_check_queued.store(false);
      });
      if (!queued) {
        postgres_check_queued.store(false);
      }
    }
    if (postgres_seen.load() && keyd.ever_connected()) {
      ready = true;
      log::notice("authd.ready", {{"address", cfg.listen.address}, {"port", cfg.listen.port}});
      sd::notify_ready("serving https on " + cfg.listen.address + ":" + std::to_string(cfg.listen.port));
    }
  });
  workers.stop();
  password_workers.stop();
  log::notice("authd.stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  log::set_program("authd");
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--config" && i + 1 < argc) {
      args.config = argv[++i];
    } else if (a.rfind("--config=", 0) == 0) {
      args.config = a.substr(9);
    } else if (a == "--check-config") {
      args.check_config = true;
    } else if (a == "--version") {
      std::cout << "authd " << kVersion << "\n";
      return 0;
    } else if (!a.empty() && a[0] != '-') {
      args.command.assign(argv + i, argv + argc);
      break;
    } else {
      return usage();
    }
  }
  try {
    hardening::harden_process();
  } catch (const std::exception& e) {
    log::error("authd.hardening_failed", {{"reason", e.what()}});
    return 71;
  }
  ::signal(SIGPIPE, SIG_IGN);

  config::AuthdConfig cfg;
  try {
    cfg = config::load_authd_config(args.config);
  } catch (const config::ConfigError& e) {
    std::cerr << e.what() << "\n";
    return config::kExitConfig;
  }
  if (args.check_config) {
    std::cout << args.config << ": ok\n";
    return 0;
  }
  log::set_level(*log::parse_level(cfg.log_level));
  if (!args.command.empty() && args.command[0] != "serve") {
    try {
      return authd::run_cli(cfg, build_conninfo(cfg.database), args.command);
    } catch (const std::exception& e) {
      std::cerr << "authd: " << e.what() << "\n";
      return 1;
    }
  }
  const std::string files_problem = authd::fit_open_files_limit(cfg);
  if (!files_problem.empty()) {
    std::cerr << args.config << ": http.max_connections: " << files_problem << "\n";
    return config::kExitConfig;
  }
  log::info("authd.config_loaded", {{"file", args.config}, {"version", std::string(kVersion)}});
  try {
    return run(cfg, args.config);
  } catch (const std::exception& e) {
    log::error("authd.fatal", {{"reason", e.what()}});
    return 1;
  }
}
