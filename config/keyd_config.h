#pragma once
// keyd's configuration (config/keyd.yaml documents every key).
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace orbitnest::config {

struct KeydSocketConfig {
  // Used when systemd does not pass the socket (LISTEN_FDS).
  std::string path;
  // Mode of a socket keyd binds itself (systemd's keyd.socket sets its own).
  unsigned mode = 0660;
};

struct KeydHsmConfig {
  std::string module;       // PKCS#11 module (.so) path
  std::string token_label;  // the token is found by its label, never by slot number
  // Exactly one of these: a systemd credential name (read from
  // $CREDENTIALS_DIRECTORY) or a file that only keyd's user can read.
  std::optional<std::string> pin_credential;
  std::optional<std::string> pin_file;
  int sessions = 4;  // PKCS#11 session pool size (concurrent signing)
};

struct KeydClientsConfig {
  std::string authd_user;      // the only uid allowed the authd operations
  std::string operator_group;  // its members (and root) may run operator ops
  // Resolved while loading, so an unknown name is a config error.
  uid_t authd_uid = 0;
  std::optional<gid_t> operator_gid;
  // Connections held at once, per peer class: authd's uid can never take
  // the operators' slots (keydctl still gets in when authd is flooding).
  int authd_max_connections = 48;
  int operator_max_connections = 8;
};

// The rules a keyring's tokens must follow: keyd checks every claim set
// against them before it signs, so a compromised authd cannot mint a token
// with another issuer, audience or role, or a longer life.
// Project keyrings sign only these roles, whatever the config says (it may
// narrow the list, never widen it).
inline constexpr const char* kProjectRoles[] = {"authenticated", "anon"};

struct KeyringRulesConfig {
  std::string algorithm = "ES256";  // ES256, RS256 or EdDSA
  std::vector<std::string> audiences;
  std::vector<std::string> roles;
};

struct KeydKeyringsConfig {
  // The admin keyring's issuer, exactly.
  std::string admin_issuer;
  KeyringRulesConfig admin;
  // A project keyring's issuer is this prefix + the project ref + "/auth/v1".
  std::string project_issuer_prefix;
  KeyringRulesConfig project;
  int max_token_lifetime_seconds = 3600;
  int clock_skew_seconds = 60;
  // ensure_keyring refuses to create more project keyrings than this.
  int max_project_keyrings = 10000;
};

struct KeydRotationConfig {
  // Scheduled rotation period; 0 = only by keydctl / admin API.
  int period_days = 90;
  // A next key is published at least this long before it may sign
  // (covers JWKS caches); rotation before that is refused.
  int min_prepublish_seconds = 3600;
  // A previous key stays published this long after it stopped signing;
  // must cover the longest token lifetime plus clock skew.
  int verify_window_seconds = 7200;
};

struct KeydConfig {
  KeydSocketConfig socket;
  KeydHsmConfig hsm;
  // The keyring state lives in the token (CKO_DATA objects); this folder
  // keeps a local copy (keyrings.json: a backup, and the file an older
  // keyd wrote, imported once into a token that holds no state yet).
  std::string state_directory;
  // Other keyd share this token (several nodes, one HSM cluster): key
  // labels get a random suffix, and keys no state names are destroyed only
  // after rotation.verify_window_seconds, never at start (another node's
  // write may be in flight). keyd/README.md "Several nodes".
  bool state_shared = false;
  // How old the state keyd signs and publishes with may be: at most this
  // often keyd asks the token whether the state changed (writes always
  // read it first). 0..10000 ms.
  int state_refresh_ms = 1000;
  std::string audit_file;
  int audit_checkpoint_every = 100;
  int audit_summary_seconds = 300;
  KeydKeyringsConfig keyrings;
  KeydRotationConfig rotation;
  KeydClientsConfig clients;
  std::string log_level = "info";
};

// Loads and validates; throws ConfigError (one line: file:line: key: problem).
KeydConfig load_keyd_config(const std::string& path);
KeydConfig parse_keyd_config(const std::string& text, const std::string& file);

}  // namespace orbitnest::config
