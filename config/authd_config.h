#pragma once
// authd's configuration (config/authd.yaml documents every key).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace orbitnest::config {

struct AuthdListenConfig {
  std::string address = "127.0.0.1";
  int port = 8443;

  bool operator==(const AuthdListenConfig&) const = default;
};

struct AuthdTlsConfig {
  std::string cert_file;
  std::string key_file;
  std::string min_version = "1.2";  // "1.2" or "1.3"

  bool operator==(const AuthdTlsConfig&) const = default;
};

struct AuthdKeydConfig {
  std::string socket_path;
  int request_timeout_ms = 2000;
  int reconnect_max_backoff_ms = 1000;

  bool operator==(const AuthdKeydConfig&) const = default;
};

struct AuthdDatabaseConfig {
  // libpq connection string without the password; the password, if any,
  // comes from password_file so that it never sits in a config file.
  std::string conninfo;
  std::optional<std::string> password_file;
  int pool_size = 32;
  int connect_timeout_seconds = 3;

  bool operator==(const AuthdDatabaseConfig&) const = default;
};

struct AuthdHttpConfig {
  int io_threads = 2;
  int header_limit_bytes = 8192;
  int body_limit_bytes = 65536;
  int read_timeout_seconds = 15;
  int idle_timeout_seconds = 60;
  int max_connections = 4096;
  // One address (an IPv6 /64) may hold this many of them; a quarter of
  // max_connections leaves room for a large office behind one NAT.
  int max_connections_per_ip = 256;
  // A new connection must complete its TLS handshake within this.
  int handshake_timeout_seconds = 5;
  int drain_timeout_seconds = 10;

  bool operator==(const AuthdHttpConfig&) const = default;
};

// Housekeeping: a bounded background purge, every purge_interval_seconds,
// of sessions past their realm's lifetimes (with their refresh tokens) and
// of rotated refresh tokens older than refresh_token_history_seconds. A
// token older than that, presented again, is refused as unknown rather
// than detected as a replay (which would end its session family).
struct AuthdSessionsConfig {
  int purge_interval_seconds = 60;
  int refresh_token_history_seconds = 7 * 86400;

  bool operator==(const AuthdSessionsConfig&) const = default;
};

struct AuthdWorkersConfig {
  // Blocking work (Postgres, Argon2id) runs here, never on the I/O threads.
  // Most of it is waiting on Postgres (WAL flushes): more threads in flight
  // share each flush, so this is well above the core count.
  int threads = 32;
  // Jobs waiting beyond this get 503 + Retry-After at once.
  int queue_limit = 256;
  // A job that waited longer than this for a worker is answered 503 +
  // Retry-After instead of being run late: under overload the excess is
  // refused quickly and what is served keeps a bounded latency.
  int max_queue_wait_ms = 200;

  bool operator==(const AuthdWorkersConfig&) const = default;
};

struct AuthdPasswordsConfig {
  // Argon2id parameters; OWASP's minimum (19 MiB, t=2, p=1) is the floor.
  int argon2_memory_kib = 19456;
  int argon2_iterations = 2;
  int argon2_parallelism = 1;
  // Hashes running at once; 0 = one per CPU core.
  int max_concurrent_hashes = 0;

  bool operator==(const AuthdPasswordsConfig&) const = default;
};

// The RPC endpoint's own database login (PostgREST's authenticator
// pattern): a role that owns nothing and may only switch to anon,
// authenticated and service_role. Which schemas a project exposes is a
// project setting (exposed_schemas), not configuration.
inline constexpr const char* kDefaultRpcRole = "orbitnest_rpc";

struct AuthdRestConfig {
  // Default: database.conninfo with user=orbitnest_rpc.
  std::string conninfo;
  std::optional<std::string> password_file;
  int pool_size = 8;
  // Per call: a function that runs longer is cancelled (SQLSTATE 57014).
  int statement_timeout_ms = 8000;

  bool operator==(const AuthdRestConfig&) const = default;
};

// The admin user system (the people who run the appliance): its own
// listener, off the project API's, and its token rules, which must match
// keyd's admin keyring (keyd.yaml keyrings.admin).
// Connections the admin listener holds apart from http.max_connections.
inline constexpr int kAdminConnections = 64;

// The operations listener: GET /metrics (Prometheus text format),
// /health/live and /health/ready, over TLS with the API's certificate. Off
// unless configured (the shipped authd.yaml turns it on, on loopback):
// metrics name routes and keys, not secrets, but they are for the
// operator's scraper, not the internet.
struct AuthdMetricsConfig {
  bool enabled = false;
  AuthdListenConfig listen{"127.0.0.1", 9464};

  bool operator==(const AuthdMetricsConfig&) const = default;
};
inline constexpr int kOperationsConnections = 16;

struct AuthdAdminConfig {
  bool enabled = true;
  AuthdListenConfig listen{"127.0.0.1", 8444};
  std::string issuer = "https://localhost:8443/admin";
  std::string audience = "orbitnest-admin";
  std::string role = "admin";
  // keyd's rotate_by_admin accepts only tokens living at most 900 s.
  int access_token_ttl_seconds = 900;
  int password_min_length = 12;
  int ip_requests_per_hour = 300;  // per endpoint class and client address
  // "challenge" (no session before the second factor) or "aal1_session".
  std::string mfa_sign_in = "challenge";
  // An admin session ends 12 hours after sign-in, or after an hour without
  // a refresh (0 = never).
  int session_timebox_seconds = 43200;
  int session_inactivity_timeout_seconds = 3600;
  // Origins whose pages may call the admin API (the Studio page served
  // from the admin listener itself). A request whose Origin is not listed
  // is refused (403); none by default: tools without a browser send none.
  std::vector<std::string> allowed_origins;
  // Admin passkeys (WebAuthn): the relying party id, its name, the
  // origins whose ceremonies count (empty: https://<rp_id>:<admin port>
  // and allowed_origins), user verification and attestation policy.
  struct Passkey {
    bool enabled = true;
    std::string rp_id = "localhost";
    std::string rp_name = "OrbitNest admin";
    std::vector<std::string> origins;
    std::string user_verification = "required";
    std::string resident_key = "required";
    std::string attestation = "none";
    bool operator==(const Passkey&) const = default;
  } passkey;
  // Social sign-in (OpenID Connect: Google, or any provider with
  // discovery). See authd/oauth/README.md.
  struct OAuthProvider {
    std::string name;  // the key under providers: (GET /authorize?provider=<name>)
    std::string kind = "oidc";  // "oidc" (discovery from issuer) | "github"
    std::string issuer;         // oidc
    std::string client_id;
    std::string client_secret_file;  // a secret file (0600), read at start
    std::vector<std::string> scopes;  // oidc: openid email profile; github: read:user user:email
    // github (overridable for tests): its OAuth endpoints and REST API.
    std::string authorization_endpoint = "https://github.com/login/oauth/authorize";
    std::string token_endpoint = "https://github.com/login/oauth/access_token";
    std::string api_base = "https://api.github.com";
    bool operator==(const OAuthProvider&) const = default;
  };
  struct OAuth {
    // This API's /callback as registered with every provider.
    std::string callback_url;
    // Where a finished sign-in may send the browser (a URL each must start with).
    std::vector<std::string> redirect_urls;
    // Verified addresses of these domains may sign up as new admins; none
    // by default (social login then signs in and links existing admins).
    std::vector<std::string> signup_domains;
    // Extra CA certificates for the providers' TLS (tests); the system's otherwise.
    std::string ca_file;
    std::vector<OAuthProvider> providers;
    bool operator==(const OAuth&) const = default;
  } oauth;

  bool operator==(const AuthdAdminConfig&) const = default;
};

struct AuthdConfig {
  AuthdListenConfig listen;
  AuthdAdminConfig admin;
  AuthdMetricsConfig metrics;
  AuthdSessionsConfig sessions;
  AuthdTlsConfig tls;
  AuthdKeydConfig keyd;
  AuthdDatabaseConfig database;
  AuthdHttpConfig http;
  AuthdWorkersConfig workers;
  AuthdPasswordsConfig passwords;
  AuthdRestConfig rest;
  std::string log_level = "info";

  bool operator==(const AuthdConfig&) const = default;
};

// What start-up refuses in the TLS key file beyond its existence (a mode
// that lets others read it); "" when fine. A SIGHUP reload asks the same.
std::string tls_key_file_problem(const std::string& key_file);

AuthdConfig load_authd_config(const std::string& path);
AuthdConfig parse_authd_config(const std::string& text, const std::string& file);

}  // namespace orbitnest::config
