#pragma once
// The keyrings: every signing key's place in its life, kept in the state
// file and backed by objects in the HSM. Signs JWTs after checking their
// claims against the keyring's rules, publishes JWKS, rotates keys, and
// keeps the symmetric keys (sealing, pepper) and the audit key.
//
// Crash consistency: the state file is the truth and is written only after
// the HSM work it describes. open() reconciles: HSM keys no state entry
// names are destroyed (an interrupted rotation rolls back), retired entries
// whose objects remain are destroyed (an interrupted retirement completes),
// and every keyring must have exactly one current key.
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/keyd_config.h"
#include "keyd/audit/audit_log.h"
#include "keyd/keyring/claims_policy.h"
#include "keyd/keyring/keyring_state.h"
#include "keyd/pkcs11/token.h"

namespace orbitnest::keyd {

// A request keyd refuses (unknown keyring, claims not allowed, rotation
// too early): the peer gets bad_request with this message.
class KeyringRefused final : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct KeyInfo {
  std::string keyring;
  KeyVersion key;
  std::string algorithm;
  std::uint64_t signatures = 0;  // since keyd started
  std::int64_t retires_at = 0;   // previous keys: when they leave the JWKS
};

struct SymmetricKey {
  int version;
  CK_OBJECT_HANDLE handle;
};

class KeyringStore final {
 public:
  KeyringStore(p11::Token& token, AuditLog& audit, const config::KeydConfig& cfg);
  KeyringStore(const KeyringStore&) = delete;
  KeyringStore& operator=(const KeyringStore&) = delete;

  // Loads, reconciles, creates what is missing (admin keyring, sealing,
  // pepper and audit keys). Throws on an inconsistency it cannot repair.
  void open();

  std::string sign_jwt(const std::string& keyring, const std::string& claims_json);
  std::string jwks(const std::string& keyring);
  // Creates "project:<ref>" if it does not exist; returns its issuer.
  std::string ensure_project_keyring(const std::string& ref, const AuditEvent& requested_by);

  // next → current → previous; a new next. Refused while the next key is
  // younger than rotation.min_prepublish_seconds unless `force`.
  std::vector<KeyInfo> rotate(const std::string& keyring, bool force, const AuditEvent& requested_by);
  // Scheduled rotation and retirement of keys past their window.
  void run_schedule(std::int64_t now);
  std::vector<KeyInfo> list(const std::string& keyring_filter);
  // Writes one audit record per key that signed since the last call.
  void flush_sign_summaries();

  SymmetricKey current_symmetric(bool sealing);
  std::optional<SymmetricKey> symmetric(bool sealing, int version);
  // Signs `message` with the audit key (checkpoints).
  std::string audit_sign(std::string_view message);
  std::string audit_public_key_pem();

 private:
  struct SignStats {
    std::uint64_t total = 0;
    std::uint64_t since_summary = 0;
    std::int64_t first = 0;
    std::int64_t last = 0;
  };

  void reconcile();                                                   // m_mutex held exclusively
  Keyring create_keyring(const std::string& name, const std::string& issuer, p11::Algorithm alg);  // idem
  KeyVersion generate_version(const std::string& keyring, p11::Algorithm alg, int version, std::int64_t now);
  void retire_expired_locked(std::int64_t now);
  std::vector<KeyInfo> rotate_locked(Keyring& ring, bool force, std::int64_t now);
  ClaimsPolicy policy_for(const Keyring& ring) const;
  CK_OBJECT_HANDLE handle(CK_OBJECT_CLASS cls, const std::string& label);
  void destroy_label(const std::string& label);
  void save();
  void audit_key_event(const char* event, const Keyring& ring, const KeyVersion& v);
  KeyInfo info_of(const Keyring& ring, const KeyVersion& v);

  p11::Token& m_token;
  AuditLog& m_audit;
  const config::KeydConfig& m_cfg;
  std::string m_state_path;
  std::shared_mutex m_mutex;  // guards m_state and m_jwks
  KeydStateFile m_state;
  std::map<std::string, std::string> m_jwks;  // keyring -> serialized JWKS
  std::mutex m_handles_mutex;
  std::map<std::string, CK_OBJECT_HANDLE> m_handles;  // "<class>:<label>" -> handle
  std::mutex m_stats_mutex;
  std::map<std::string, SignStats> m_stats;  // kid -> counts
};

// Test hook: ORBITNEST_KEYD_FAULT=<point> kills keyd with SIGKILL there.
void fault_point(const char* name);

}  // namespace orbitnest::keyd
