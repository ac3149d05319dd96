#pragma once
// The keyrings and the state file behind them: which key versions exist,
// where each is in its life, and the versions of the symmetric and audit
// keys. Everything else in keyd/keyring reads or changes keyd's state
// through this class and its lock.
//
// Crash consistency: the state file is the truth and is written only after
// the HSM work it describes. reconcile() repairs what a crash left: HSM keys
// no state entry names are destroyed (an interrupted rotation rolls back),
// retired entries whose objects remain are destroyed (an interrupted
// retirement completes), and every keyring must have exactly one current key.
#include <cstdint>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <utility>

#include "config/keyd_config.h"
#include "keyd/audit/audit_log.h"
#include "keyd/keyring/handle_cache.h"
#include "keyd/keyring/keyring_state.h"
#include "keyd/pkcs11/token.h"

namespace orbitnest::keyd {

// A request keyd refuses (unknown keyring, claims not allowed, rotation
// too early): the peer gets bad_request with this message.
class KeyringRefused final : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr const char* kAdminKeyring = "admin";

// Which rules a keyring's tokens follow. The name decides it here and
// nowhere else: "admin" is the admin keyring, every other is "project:<ref>".
enum class KeyringKind { admin, project };
KeyringKind keyring_kind(const Keyring& ring);

// The keyring named `name`; throws KeyringRefused if there is none.
const Keyring& keyring_named(const KeydStateFile& state, const std::string& name);
Keyring& keyring_named(KeydStateFile& state, const std::string& name);

// Seconds since the epoch, the unit of every time in the state file.
std::int64_t now_seconds();

// One audit record for a key's step in its life.
void audit_key_event(AuditLog& audit, const char* event, const Keyring& ring, const KeyVersion& v);

class KeyringRegistry final {
 public:
  // Holds the registry's lock exclusively for its lifetime: the state may
  // change, and save() writes it to the state file.
  class Exclusive final {
   public:
    explicit Exclusive(KeyringRegistry& registry) : m_registry(registry), m_lock(registry.m_mutex) {}
    KeydStateFile& state() { return m_registry.m_state; }
    Keyring& keyring(const std::string& name) { return keyring_named(m_registry.m_state, name); }
    void save() { save_state(m_registry.m_state_path, m_registry.m_state); }

   private:
    KeyringRegistry& m_registry;
    std::unique_lock<std::shared_mutex> m_lock;
  };

  KeyringRegistry(p11::Token& token, HandleCache& handles, AuditLog& audit, const config::KeydConfig& cfg);
  KeyringRegistry(const KeyringRegistry&) = delete;
  KeyringRegistry& operator=(const KeyringRegistry&) = delete;

  // Reads the state file; an empty state when there is none yet.
  void load();
  // Brings the HSM and the state file into agreement (see above). Throws
  // on an inconsistency it cannot repair. Appends audit records, so the
  // audit log must be signing by then.
  void reconcile();
  // Creates the admin keyring if the state has none.
  void ensure_admin_keyring();
  // Creates "project:<ref>" if it does not exist; returns its issuer.
  std::string ensure_project_keyring(const std::string& ref, const AuditEvent& requested_by);

  // Runs `fn(const KeydStateFile&)` under the shared lock.
  template <typename Fn>
  decltype(auto) read(Fn&& fn) {
    const std::shared_lock lock(m_mutex);
    return std::forward<Fn>(fn)(std::as_const(m_state));
  }
  Exclusive exclusive() { return Exclusive(*this); }

  // A new key pair inside the token for `keyring` at `version`, in state
  // next. The caller records it in the state.
  KeyVersion generate_version(const std::string& keyring, p11::Algorithm alg, int version, std::int64_t now);

 private:
  Keyring create_keyring(const std::string& name, const std::string& issuer, p11::Algorithm alg);

  p11::Token& m_token;
  HandleCache& m_handles;
  AuditLog& m_audit;
  const config::KeydConfig& m_cfg;
  std::string m_state_path;
  std::shared_mutex m_mutex;  // guards m_state
  KeydStateFile m_state;
};

}  // namespace orbitnest::keyd
