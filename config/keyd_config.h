#pragma once
// keyd's configuration (config/keyd.yaml documents every key).
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

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
};

struct KeydConfig {
  KeydSocketConfig socket;
  KeydHsmConfig hsm;
  std::string state_directory;
  std::string audit_file;
  KeydClientsConfig clients;
  std::string log_level = "info";
};

// Loads and validates; throws ConfigError (one line: file:line: key: problem).
KeydConfig load_keyd_config(const std::string& path);
KeydConfig parse_keyd_config(const std::string& text, const std::string& file);

}  // namespace orbitnest::config
