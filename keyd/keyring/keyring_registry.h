#pragma once
// The keyrings and the state file behind them: which key versions exist,
// where each is in its life, and the versions of the symmetric and audit
// keys. Everything else in keyd/keyring reads or changes keyd's state
// through this class and its lock.
//
// The state lives in the token (token_state.h), so every keyd sharing the
// token sees it; state.directory/keyrings.json is a local copy, and the
// file an older keyd wrote is imported once into a token with no state.
// Writes take the exclusive lock, re-read the token's state first and
// write a new generation; a write another keyd beat throws StateConflict
// after reloading, and with_retries() runs the whole decision again.
// Readers ask the token whether the state changed at most every
// state.refresh_ms.
//
// Crash consistency: the state is written only after the HSM work it
// describes. reconcile() repairs what a crash left: HSM keys no state
// entry names are destroyed (an interrupted rotation rolls back; on a
// shared token only once they stayed unnamed for the verify window, see
// reap_orphans()), retired entries whose objects remain are destroyed (an
// interrupted retirement completes), and every keyring must have exactly
// one current key.
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <utility>

#include "config/keyd_config.h"
#include "keyd/audit/audit_log.h"
#include "keyd/keyring/handle_cache.h"
#include "keyd/keyring/keyring_state.h"
#include "keyd/keyring/token_state.h"
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
  // Holds the registry's lock exclusively for its lifetime, over the
  // token's newest state (read when it is taken): the state may change,
  // and save() writes it to the token as a new generation. save() throws
  // StateConflict (with the token's state reloaded, so references into
  // the old one are gone) when another keyd wrote first.
  class Exclusive final {
   public:
    explicit Exclusive(KeyringRegistry& registry) : m_registry(registry), m_lock(registry.m_mutex) {
      m_registry.reload_locked();
    }
    KeydStateFile& state() { return m_registry.m_state; }
    Keyring& keyring(const std::string& name) { return keyring_named(m_registry.m_state, name); }
    void save() { m_registry.save_locked(); }

   private:
    KeyringRegistry& m_registry;
    std::unique_lock<std::shared_mutex> m_lock;
  };

  KeyringRegistry(p11::Token& token, HandleCache& handles, AuditLog& audit, const config::KeydConfig& cfg);
  KeyringRegistry(const KeyringRegistry&) = delete;
  KeyringRegistry& operator=(const KeyringRegistry&) = delete;

  // Reads the state from the token; imports state.directory/keyrings.json
  // into a token that holds none; an empty state when neither exists.
  void load();
  // Brings the HSM and the state file into agreement (see above). Throws
  // on an inconsistency it cannot repair. Appends audit records, so the
  // audit log must be signing by then.
  void reconcile();
  // Creates the admin keyring if the state has none.
  void ensure_admin_keyring();
  // Creates "project:<ref>" if it does not exist; returns its issuer.
  std::string ensure_project_keyring(const std::string& ref, const AuditEvent& requested_by);

  // Runs `fn(const KeydStateFile&)` under the shared lock, over a state
  // at most state.refresh_ms older than the token's.
  template <typename Fn>
  decltype(auto) read(Fn&& fn) {
    refresh();
    const std::shared_lock lock(m_mutex);
    return std::forward<Fn>(fn)(std::as_const(m_state));
  }
  Exclusive exclusive() { return Exclusive(*this); }
  // A keyring this keyd has not seen may have just been made by another
  // keyd on the token: look now rather than refuse it for refresh_ms.
  void look_for(const std::string& keyring) {
    {
      const std::shared_lock lock(m_mutex);
      if (m_state.keyrings.count(keyring) != 0) {
        return;
      }
    }
    refresh(true);
  }
  // Asks the token whether the state changed (at most every
  // state.refresh_ms unless `force`) and reloads it if so.
  void refresh(bool force = false);
  // Runs `fn` (which takes its own Exclusive) until its write stands; a
  // StateConflict means another keyd wrote first: back off a little, run
  // it again over the new state. Throws after kWriteAttempts.
  template <typename Fn>
  decltype(auto) with_retries(Fn&& fn) {
    for (int attempt = 1;; ++attempt) {
      try {
        return fn();
      } catch (const StateConflict& e) {
        if (attempt >= kWriteAttempts) {
          throw std::runtime_error(std::string("the keyring state stayed contended: ") + e.what());
        }
        back_off(attempt);
      }
    }
  }
  // On a shared token: destroys signing keys that no state has named for
  // rotation.verify_window_seconds (a rotation that lost its race or
  // crashed before its state write; any token such a key could have signed
  // has expired), and keys whose state is retired. Called on the schedule.
  void reap_orphans(std::int64_t now);
  // The HSM label for a new key version of `keyring` (random suffix on a
  // shared token).
  std::string new_key_label(const std::string& keyring, int version);
  bool shared() const { return m_cfg.state_shared; }
  std::uint64_t generation() {
    const std::shared_lock lock(m_mutex);
    return m_state.generation;
  }

  // A new key pair inside the token for `keyring` at `version`, in state
  // next. The caller records it in the state.
  KeyVersion generate_version(const std::string& keyring, p11::Algorithm alg, int version, std::int64_t now);

  static constexpr int kWriteAttempts = 40;

 private:
  Keyring create_keyring(const std::string& name, const std::string& issuer, p11::Algorithm alg);
  // Under the exclusive lock: the token's newest state into m_state
  // (`discard`: also when the head did not move, dropping changes a lost
  // write made to m_state).
  void reload_locked(bool discard = false);
  void save_locked();
  void write_local_copy();
  void back_off(int attempt);

  p11::Token& m_token;
  HandleCache& m_handles;
  AuditLog& m_audit;
  const config::KeydConfig& m_cfg;
  std::string m_state_path;
  TokenState m_store;
  std::shared_mutex m_mutex;  // guards m_state and m_head
  KeydStateFile m_state;
  std::optional<StateHead> m_head;  // the token object m_state came from
  std::mutex m_refresh_mutex;       // guards m_checked
  std::chrono::steady_clock::time_point m_checked{};
  std::map<std::string, std::int64_t> m_unnamed_since;  // reap_orphans(): label -> first seen unnamed
};

}  // namespace orbitnest::keyd
