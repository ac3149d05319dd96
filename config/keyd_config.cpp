#include "config/keyd_config.h"

#include <grp.h>
#include <pwd.h>

#include <algorithm>

#include "config/config_error.h"
#include "config/secret_file.h"
#include "config/yaml_map_reader.h"

namespace orbitnest::config {
namespace {

// Roles the database (or Supabase) treats as privileged: never signed by any
// keyring, even the admin one, whose roles are otherwise the config's.
bool privileged_role(const std::string& role) {
  return role == "service_role" || role == "postgres" || role == "authenticator" || role.rfind("supabase_", 0) == 0 ||
         role.rfind("pg_", 0) == 0;
}

bool project_role(const std::string& role) {
  return std::find(std::begin(kProjectRoles), std::end(kProjectRoles), role) != std::end(kProjectRoles);
}

void read_rules(YamlMapReader& r, KeyringRulesConfig& rules, const std::vector<std::string>& audiences,
                const std::vector<std::string>& roles, bool project) {
  rules.algorithm = r.choice_or("algorithm", "ES256", {"ES256", "RS256", "EdDSA"});
  rules.audiences = r.string_list_or("audiences", audiences);
  rules.roles = r.string_list_or("roles", roles);
  if (rules.audiences.empty()) {
    r.fail("audiences", "at least one audience is needed");
  }
  if (rules.roles.empty()) {
    r.fail("roles", "at least one role is needed");
  }
  for (const std::string& role : rules.roles) {
    if (project && !project_role(role)) {
      r.fail("roles", "project keyrings sign only the roles authenticated and anon, not '" + role + "'");
    }
    if (privileged_role(role)) {
      r.fail("roles", "keyd never signs tokens for the privileged role '" + role + "'");
    }
  }
}

KeydConfig read(YamlMapReader& root) {
  KeydConfig cfg;
  {
    YamlMapReader s = root.map("socket");
    cfg.socket.path = s.string_or("path", "/run/orbitnest/keyd.sock");
    if (cfg.socket.path.size() >= 108) {
      s.fail("path", "too long for a Unix socket path (max 107 bytes)");
    }
    const std::string mode = s.string_or("mode", "0660");
    if (mode.size() != 4 || mode[0] != '0' || mode.find_first_not_of("01234567") != std::string::npos) {
      s.fail("mode", "expected an octal mode like \"0660\", got '" + mode + "'");
    }
    cfg.socket.mode = static_cast<unsigned>(std::stoul(mode, nullptr, 8));
    if ((cfg.socket.mode & 0111) != 0) {
      s.fail("mode", "a socket needs no execute bits");
    }
    s.finish();
  }
  {
    YamlMapReader h = root.map("hsm");
    cfg.hsm.module = h.required_existing_file("module");
    cfg.hsm.token_label = h.required_string("token_label");
    if (cfg.hsm.token_label.size() > 32) {
      h.fail("token_label", "PKCS#11 token labels are at most 32 bytes");
    }
    const bool has_cred = h.has("pin_credential");
    const bool has_file = h.has("pin_file");
    if (has_cred == has_file) {
      h.fail(has_file ? "pin_file" : "pin_credential", "set exactly one of hsm.pin_credential and hsm.pin_file");
    }
    if (has_cred) {
      cfg.hsm.pin_credential = h.required_string("pin_credential");
      if (cfg.hsm.pin_credential->find('/') != std::string::npos) {
        h.fail("pin_credential", "a credential name, not a path");
      }
    } else {
      cfg.hsm.pin_file = h.required_existing_file("pin_file");
      const std::string problem = secret_file_problem(*cfg.hsm.pin_file);
      if (!problem.empty()) {
        h.fail("pin_file", problem);
      }
    }
    cfg.hsm.sessions = static_cast<int>(h.integer_or("sessions", 4, 1, 64));
    h.finish();
  }
  {
    YamlMapReader st = root.map("state");
    cfg.state_directory = st.required_string("directory");
    cfg.state_shared = st.boolean_or("shared", false);
    cfg.state_refresh_ms = static_cast<int>(st.integer_or("refresh_ms", 1000, 0, 10000));
    st.finish();
  }
  {
    YamlMapReader a = root.map("audit");
    cfg.audit_file = a.required_string("file");
    // 100000 is keyd::kMaxCheckpointEvery, the bound the verifier applies.
    cfg.audit_checkpoint_every = static_cast<int>(a.integer_or("checkpoint_every", 100, 1, 100000));
    cfg.audit_summary_seconds = static_cast<int>(a.integer_or("summary_seconds", 300, 1, 86400));
    a.finish();
  }
  {
    YamlMapReader k = root.map("keyrings");
    cfg.keyrings.max_token_lifetime_seconds =
        static_cast<int>(k.integer_or("max_token_lifetime_seconds", 3600, 1, 7 * 86400));
    cfg.keyrings.clock_skew_seconds = static_cast<int>(k.integer_or("clock_skew_seconds", 60, 0, 600));
    cfg.keyrings.max_project_keyrings = static_cast<int>(k.integer_or("max_project_keyrings", 10000, 1, 1000000));
    YamlMapReader admin = k.map("admin");
    cfg.keyrings.admin_issuer = admin.required_string("issuer");
    read_rules(admin, cfg.keyrings.admin, {"orbitnest-admin"}, {"admin"}, false);
    admin.finish();
    YamlMapReader project = k.map("project");
    cfg.keyrings.project_issuer_prefix = project.required_string("issuer_prefix");
    read_rules(project, cfg.keyrings.project, {"authenticated"}, {"authenticated", "anon"}, true);
    project.finish();
    k.finish();
  }
  {
    YamlMapReader r = root.map("rotation");
    cfg.rotation.period_days = static_cast<int>(r.integer_or("period_days", 90, 0, 3650));
    cfg.rotation.min_prepublish_seconds =
        static_cast<int>(r.integer_or("min_prepublish_seconds", 3600, 0, 30 * 86400));
    const int min_window = cfg.keyrings.max_token_lifetime_seconds + cfg.keyrings.clock_skew_seconds;
    cfg.rotation.verify_window_seconds =
        static_cast<int>(r.integer_or("verify_window_seconds", std::max(7200, min_window), 1, 365 * 86400));
    if (cfg.rotation.verify_window_seconds < min_window) {
      r.fail("verify_window_seconds", "must be at least keyrings.max_token_lifetime_seconds + clock_skew_seconds (" +
                                          std::to_string(min_window) + "), or tokens would outlive their key");
    }
    r.finish();
  }
  {
    YamlMapReader c = root.map("clients");
    cfg.clients.authd_user = c.required_string("authd_user");
    cfg.clients.operator_group = c.string_or("operator_group", "");
    const struct passwd* pw = ::getpwnam(cfg.clients.authd_user.c_str());
    if (pw == nullptr) {
      c.fail("authd_user", "no such user '" + cfg.clients.authd_user + "'");
    }
    cfg.clients.authd_uid = pw->pw_uid;
    if (!cfg.clients.operator_group.empty()) {
      const struct group* gr = ::getgrnam(cfg.clients.operator_group.c_str());
      if (gr == nullptr) {
        c.fail("operator_group", "no such group '" + cfg.clients.operator_group + "'");
      }
      cfg.clients.operator_gid = gr->gr_gid;
    }
    cfg.clients.authd_max_connections = static_cast<int>(c.integer_or("authd_max_connections", 48, 1, 1024));
    cfg.clients.operator_max_connections = static_cast<int>(c.integer_or("operator_max_connections", 8, 1, 64));
    c.finish();
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

KeydConfig load_keyd_config(const std::string& path) {
  YamlMapReader root = YamlMapReader::load_file(path);
  return read(root);
}

KeydConfig parse_keyd_config(const std::string& text, const std::string& file) {
  YamlMapReader root = YamlMapReader::load_text(text, file);
  return read(root);
}

}  // namespace orbitnest::config
