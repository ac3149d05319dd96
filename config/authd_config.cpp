#include "config/authd_config.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

#include "config/config_error.h"
#include "config/secret_file.h"
#include "config/yaml_map_reader.h"

namespace orbitnest::config {
namespace {

bool is_ip_literal(const std::string& text) {
  unsigned char buf[sizeof(struct in6_addr)];
  return ::inet_pton(AF_INET, text.c_str(), buf) == 1 || ::inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

int int_or(YamlMapReader& r, const std::string& key, int fallback, int min, int max) {
  return static_cast<int>(r.integer_or(key, fallback, min, max));
}

// A listener's address and port, each listener's the same way.
void read_listen(YamlMapReader& l, AuthdListenConfig& out) {
  out.address = l.string_or("address", out.address);
  if (!is_ip_literal(out.address)) {
    l.fail("address", "must be an IPv4 or IPv6 address, got '" + out.address + "'");
  }
  out.port = int_or(l, "port", out.port, 1, 65535);
}

// Two listeners that would bind the same port (the same address, or a
// wildcard on either side).
bool collide(const AuthdListenConfig& a, const AuthdListenConfig& b) {
  const auto wildcard = [](const std::string& address) { return address == "0.0.0.0" || address == "::"; };
  return a.port == b.port && (a.address == b.address || wildcard(a.address) || wildcard(b.address));
}

// An https URL (http only for a loopback host, a developer's machine)
// whose authority is a host and port only (no userinfo: "https://a@b" is
// host b), with a '*' allowed only at the end of a path ("…/app/*").
bool web_url(const std::string& url) {
  const bool https = url.rfind("https://", 0) == 0;
  if (!https && url.rfind("http://", 0) != 0) {
    return false;
  }
  const std::size_t start = https ? 8 : 7;
  const std::size_t end = url.find_first_of("/?#", start);
  const std::string authority = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (authority.empty() || authority.find_first_of("@\\*% ") != std::string::npos) {
    return false;
  }
  const std::size_t star = url.find('*');
  if (star != std::string::npos && (star + 1 != url.size() || url[star - 1] != '/' || end == std::string::npos)) {
    return false;
  }
  if (url.find_first_of("\\ \t\r\n") != std::string::npos) {
    return false;
  }
  if (https) {
    return true;
  }
  const std::string host = authority.substr(0, authority[0] == '[' ? authority.find(']') + 1 : authority.find(':'));
  return host == "localhost" || host == "127.0.0.1" || host == "[::1]";
}

// A domain name as an operator writes it: labels of letters (any script),
// digits and inner hyphens, at least two, no wildcard, no trailing dot.
bool domain_name(const std::string& domain) {
  if (domain.empty() || domain.size() > 253 || domain.find('.') == std::string::npos) {
    return false;
  }
  std::size_t label = 0;
  for (std::size_t i = 0; i <= domain.size(); ++i) {
    if (i == domain.size() || domain[i] == '.') {
      if (label == 0 || label > 63 || domain[i - 1] == '-' || domain[i - label] == '-') {
        return false;
      }
      label = 0;
      continue;
    }
    const unsigned char ch = static_cast<unsigned char>(domain[i]);
    if (!(std::isalnum(ch) || ch == '-' || ch >= 0x80)) {
      return false;
    }
    ++label;
  }
  return true;
}

// admin.oauth: social sign-in for admins (authd/oauth/README.md).
void read_admin_oauth(YamlMapReader o, AuthdAdminConfig::OAuth& out) {
  out.callback_url = o.string_or("callback_url", "");
  out.redirect_urls = o.string_list_or("redirect_urls", {});
  out.signup_domains = o.string_list_or("signup_domains", {});
  out.ca_file = o.optional_existing_file("ca_file").value_or("");
  YamlMapReader providers = o.map("providers");
  for (const std::string& name : providers.keys()) {
    YamlMapReader p = providers.map(name);
    if (name.empty() || name.size() > 32 || name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") != std::string::npos) {
      providers.fail(name, "a provider's name is 1 to 32 of a-z 0-9 _ -");
    }
    // The identities of password and phone admins carry these names: a
    // provider under one would share them (and their subjects).
    for (const char* reserved : {"email", "phone", "anonymous", "sso", "passkey", "webauthn"}) {
      if (name == reserved) {
        providers.fail(name, "'" + name + "' is a built-in identity's name: choose another provider name");
      }
    }
    AuthdAdminConfig::OAuthProvider provider;
    provider.name = name;
    provider.kind = p.choice_or("kind", provider.kind, {"oidc", "github"});
    const bool github = provider.kind == "github";
    if (!github) {
      provider.issuer = p.required_string("issuer");
      if (provider.issuer.rfind("https://", 0) != 0) {
        p.fail("issuer", "must be an https URL (OpenID discovery is fetched from it)");
      }
    }
    provider.client_id = p.required_string("client_id");
    provider.client_secret_file = p.required_existing_file("client_secret_file");
    if (const std::string problem = secret_file_problem(provider.client_secret_file); !problem.empty()) {
      p.fail("client_secret_file", problem);
    }
    provider.scopes = p.string_list_or(
        "scopes", github ? std::vector<std::string>{"read:user", "user:email"}
                         : std::vector<std::string>{"openid", "email", "profile"});
    if (!github && std::find(provider.scopes.begin(), provider.scopes.end(), "openid") == provider.scopes.end()) {
      p.fail("scopes", "must include openid");
    }
    if (github) {
      for (auto [key, value] : {std::pair{"authorization_endpoint", &provider.authorization_endpoint},
                                std::pair{"token_endpoint", &provider.token_endpoint},
                                std::pair{"api_base", &provider.api_base}}) {
        *value = p.string_or(key, *value);
        if (value->rfind("https://", 0) != 0) {
          p.fail(key, "must be an https URL");
        }
      }
    }
    p.finish();
    out.providers.push_back(std::move(provider));
  }
  providers.finish();
  if (!out.providers.empty()) {
    if (!web_url(out.callback_url)) {
      o.fail("callback_url", "is required with providers: this API's /admin/v1/callback as registered with them, "
                             "an https URL");
    }
    if (out.redirect_urls.empty()) {
      o.fail("redirect_urls", "is required with providers: where a finished sign-in may send the browser");
    }
  }
  for (const std::string& url : out.redirect_urls) {
    if (!web_url(url)) {
      o.fail("redirect_urls", "'" + url + "' is not an https URL");
    }
  }
  for (const std::string& domain : out.signup_domains) {
    if (!domain_name(domain)) {
      o.fail("signup_domains", "'" + domain + "' is not a domain name (exactly one domain each: subdomains are "
                               "not implied, and there are no wildcards)");
    }
  }
  o.finish();
}

AuthdConfig read(YamlMapReader& root) {
  AuthdConfig cfg;
  {
    YamlMapReader l = root.map("listen");
    read_listen(l, cfg.listen);
    l.finish();
  }
  {
    YamlMapReader t = root.map("tls");
    cfg.tls.cert_file = t.required_existing_file("cert_file");
    cfg.tls.key_file = t.required_existing_file("key_file");
    const std::string problem = tls_key_file_problem(cfg.tls.key_file);
    if (!problem.empty()) {
      t.fail("key_file", problem);
    }
    cfg.tls.min_version = t.choice_or("min_version", cfg.tls.min_version, {"1.2", "1.3"});
    t.finish();
  }
  {
    YamlMapReader k = root.map("keyd");
    cfg.keyd.socket_path = k.required_string("socket_path");
    if (cfg.keyd.socket_path.size() >= 108) {
      k.fail("socket_path", "too long for a Unix socket path (max 107 bytes)");
    }
    cfg.keyd.request_timeout_ms = int_or(k, "request_timeout_ms", cfg.keyd.request_timeout_ms, 50, 60000);
    cfg.keyd.reconnect_max_backoff_ms =
        int_or(k, "reconnect_max_backoff_ms", cfg.keyd.reconnect_max_backoff_ms, 100, 60000);
    k.finish();
  }
  {
    YamlMapReader d = root.map("database");
    cfg.database.conninfo = d.required_string("conninfo");
    if (cfg.database.conninfo.find("password") != std::string::npos) {
      d.fail("conninfo", "must not hold a password; use database.password_file");
    }
    cfg.database.password_file = d.optional_existing_file("password_file");
    if (cfg.database.password_file) {
      const std::string problem = secret_file_problem(*cfg.database.password_file);
      if (!problem.empty()) {
        d.fail("password_file", problem);
      }
    }
    cfg.database.pool_size = int_or(d, "pool_size", cfg.database.pool_size, 1, 256);
    cfg.database.connect_timeout_seconds =
        int_or(d, "connect_timeout_seconds", cfg.database.connect_timeout_seconds, 1, 60);
    d.finish();
  }
  {
    YamlMapReader h = root.map("http");
    cfg.http.io_threads = int_or(h, "io_threads", cfg.http.io_threads, 1, 64);
    cfg.http.header_limit_bytes = int_or(h, "header_limit_bytes", cfg.http.header_limit_bytes, 1024, 65536);
    cfg.http.body_limit_bytes = int_or(h, "body_limit_bytes", cfg.http.body_limit_bytes, 1024, 1048576);
    cfg.http.read_timeout_seconds = int_or(h, "read_timeout_seconds", cfg.http.read_timeout_seconds, 1, 300);
    cfg.http.idle_timeout_seconds = int_or(h, "idle_timeout_seconds", cfg.http.idle_timeout_seconds, 1, 3600);
    cfg.http.max_connections = int_or(h, "max_connections", cfg.http.max_connections, 1, 1000000);
    cfg.http.max_connections_per_ip =
        int_or(h, "max_connections_per_ip", cfg.http.max_connections_per_ip, 1, 1000000);
    cfg.http.handshake_timeout_seconds =
        int_or(h, "handshake_timeout_seconds", cfg.http.handshake_timeout_seconds, 1, 60);
    cfg.http.drain_timeout_seconds = int_or(h, "drain_timeout_seconds", cfg.http.drain_timeout_seconds, 0, 300);
    h.finish();
  }
  {
    YamlMapReader w = root.map("workers");
    cfg.workers.threads = int_or(w, "threads", cfg.workers.threads, 1, 256);
    cfg.workers.queue_limit = int_or(w, "queue_limit", cfg.workers.queue_limit, 1, 100000);
    cfg.workers.max_queue_wait_ms = int_or(w, "max_queue_wait_ms", cfg.workers.max_queue_wait_ms, 10, 60000);
    w.finish();
  }
  {
    YamlMapReader r = root.map("rest");
    if (r.has("exposed_schemas")) {
      // Schemas are exposed per project now (a schema of one project must
      // not be callable with another's keys): refused rather than ignored.
      r.fail("exposed_schemas",
             "moved to the project setting exposed_schemas: authd project settings REF "
             "'exposed_schemas=[\"public\"]'; remove it here");
    }
    const bool uri = cfg.database.conninfo.rfind("postgres://", 0) == 0 ||
                     cfg.database.conninfo.rfind("postgresql://", 0) == 0;
    if (uri && !r.has("conninfo")) {
      r.fail("conninfo", "required when database.conninfo is a URI (the default adds user=" +
                             std::string(kDefaultRpcRole) + " to a key=value string)");
    }
    // libpq takes the last of a repeated keyword: this user= wins.
    cfg.rest.conninfo = r.string_or("conninfo", cfg.database.conninfo + " user=" + kDefaultRpcRole);
    if (cfg.rest.conninfo.find("password") != std::string::npos) {
      r.fail("conninfo", "must not hold a password; use rest.password_file");
    }
    cfg.rest.password_file = r.optional_existing_file("password_file");
    if (cfg.rest.password_file) {
      const std::string problem = secret_file_problem(*cfg.rest.password_file);
      if (!problem.empty()) {
        r.fail("password_file", problem);
      }
    }
    cfg.rest.pool_size = int_or(r, "pool_size", cfg.rest.pool_size, 1, 256);
    cfg.rest.statement_timeout_ms = int_or(r, "statement_timeout_ms", cfg.rest.statement_timeout_ms, 100, 600000);
    r.finish();
  }
  {
    YamlMapReader s = root.map("sessions");
    cfg.sessions.purge_interval_seconds = int_or(s, "purge_interval_seconds", cfg.sessions.purge_interval_seconds, 1, 86400);
    cfg.sessions.refresh_token_history_seconds =
        int_or(s, "refresh_token_history_seconds", cfg.sessions.refresh_token_history_seconds, 60, 366 * 86400);
    s.finish();
  }
  {
    YamlMapReader m = root.map("metrics");
    cfg.metrics.enabled = m.boolean_or("enabled", cfg.metrics.enabled);
    YamlMapReader l = m.map("listen");
    read_listen(l, cfg.metrics.listen);
    if (cfg.metrics.enabled && collide(cfg.metrics.listen, cfg.listen)) {
      l.fail("port", "must differ from listen.port: metrics have a listener of their own, off the public port");
    }
    l.finish();
    m.finish();
  }
  {
    YamlMapReader a = root.map("admin");
    cfg.admin.enabled = a.boolean_or("enabled", cfg.admin.enabled);
    {
      YamlMapReader l = a.map("listen");
      read_listen(l, cfg.admin.listen);
      if (cfg.admin.enabled && collide(cfg.admin.listen, cfg.listen)) {
        l.fail("port", "must differ from listen.port: the admin API has a listener of its own");
      }
      l.finish();
    }
    cfg.admin.issuer = a.string_or("issuer", cfg.admin.issuer);
    cfg.admin.audience = a.string_or("audience", cfg.admin.audience);
    cfg.admin.role = a.string_or("role", cfg.admin.role);
    if (cfg.admin.role == "authenticated" || cfg.admin.role == "anon" || cfg.admin.role == "service_role") {
      a.fail("role", "must not be a database role of the project API ('" + cfg.admin.role + "')");
    }
    cfg.admin.access_token_ttl_seconds =
        int_or(a, "access_token_ttl_seconds", cfg.admin.access_token_ttl_seconds, 60, 900);
    cfg.admin.password_min_length = int_or(a, "password_min_length", cfg.admin.password_min_length, 12, 1024);
    cfg.admin.ip_requests_per_hour = int_or(a, "ip_requests_per_hour", cfg.admin.ip_requests_per_hour, 1, 1000000);
    cfg.admin.allowed_origins = a.string_list_or("allowed_origins", {});
    cfg.admin.mfa_sign_in = a.choice_or("mfa_sign_in", cfg.admin.mfa_sign_in, {"challenge", "aal1_session"});
    cfg.admin.session_timebox_seconds =
        int_or(a, "session_timebox_seconds", cfg.admin.session_timebox_seconds, 0, 366 * 86400);
    cfg.admin.session_inactivity_timeout_seconds =
        int_or(a, "session_inactivity_timeout_seconds", cfg.admin.session_inactivity_timeout_seconds, 0, 366 * 86400);
    {
      YamlMapReader p = a.map("passkey");
      auto& pk = cfg.admin.passkey;
      pk.enabled = p.boolean_or("enabled", pk.enabled);
      pk.rp_id = p.string_or("rp_id", pk.rp_id);
      pk.rp_name = p.string_or("rp_name", pk.rp_name);
      pk.origins = p.string_list_or("origins", {});
      pk.user_verification = p.choice_or("user_verification", pk.user_verification, {"required", "preferred", "discouraged"});
      pk.resident_key = p.choice_or("resident_key", pk.resident_key, {"required", "preferred", "discouraged"});
      pk.attestation = p.choice_or("attestation", pk.attestation, {"none", "indirect"});
      p.finish();
    }
    read_admin_oauth(a.map("oauth"), cfg.admin.oauth);
    a.finish();
  }
  {
    YamlMapReader pw = root.map("passwords");
    cfg.passwords.argon2_memory_kib = int_or(pw, "argon2_memory_kib", cfg.passwords.argon2_memory_kib, 19456, 4194304);
    cfg.passwords.argon2_iterations = int_or(pw, "argon2_iterations", cfg.passwords.argon2_iterations, 2, 100);
    cfg.passwords.argon2_parallelism = int_or(pw, "argon2_parallelism", cfg.passwords.argon2_parallelism, 1, 16);
    cfg.passwords.max_concurrent_hashes = int_or(pw, "max_concurrent_hashes", 0, 0, 256);
    pw.finish();
  }
  {
    YamlMapReader l = root.map("log");
    cfg.log_level = l.choice_or("level", "info", {"debug", "info", "notice", "warning", "error"});
    l.finish();
  }
  root.finish();
  return cfg;
}

}  // namespace

std::string tls_key_file_problem(const std::string& key_file) { return secret_file_problem(key_file); }

AuthdConfig load_authd_config(const std::string& path) {
  YamlMapReader root = YamlMapReader::load_file(path);
  return read(root);
}

AuthdConfig parse_authd_config(const std::string& text, const std::string& file) {
  YamlMapReader root = YamlMapReader::load_text(text, file);
  return read(root);
}

}  // namespace orbitnest::config
