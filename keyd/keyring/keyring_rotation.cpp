// KeyringStore: rotation, retirement and the rotation schedule. Every step
// writes the HSM first and the state file after, with a fault point between
// them, so that open()'s reconciliation can finish or undo any step.
#include <algorithm>
#include <chrono>

#include "keyd/keyring/keyring_store.h"
#include "systemd/log.h"

namespace orbitnest::keyd {
namespace {

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

std::vector<KeyInfo> KeyringStore::rotate(const std::string& keyring, bool force, const AuditEvent& requested_by) {
  const std::unique_lock lock(m_mutex);
  const auto it = m_state.keyrings.find(keyring);
  if (it == m_state.keyrings.end()) {
    throw KeyringRefused("no keyring named '" + keyring + "'");
  }
  const std::int64_t now = unix_now();
  const KeyVersion* next = it->second.find(KeyState::next);
  if (!force && now - next->created < m_cfg.rotation.min_prepublish_seconds) {
    throw KeyringRefused("the next key of " + keyring + " was published " + std::to_string(now - next->created) +
                         " s ago; rotation.min_prepublish_seconds is " +
                         std::to_string(m_cfg.rotation.min_prepublish_seconds) + " (use --force to override)");
  }
  AuditEvent intent = requested_by;
  intent.event = "rotate_requested";
  intent.keyring = keyring;
  intent.detail = boost::json::object{{"force", force}};
  m_audit.append(intent);  // fail closed: no record, no rotation
  std::vector<KeyInfo> result = rotate_locked(it->second, force, now);
  retire_expired_locked(now);
  return result;
}

std::vector<KeyInfo> KeyringStore::rotate_locked(Keyring& ring, bool /*force*/, std::int64_t now) {
  fault_point("rotate.after_intent");
  const KeyVersion fresh = generate_version(ring.name, ring.algorithm, ring.highest_version() + 1, now);
  fault_point("rotate.after_generate");
  KeyVersion* current = ring.find(KeyState::current);
  KeyVersion* next = ring.find(KeyState::next);
  current->state = KeyState::previous;
  current->demoted = now;
  next->state = KeyState::current;
  next->promoted = now;
  const KeyVersion demoted = *current;
  const KeyVersion promoted = *next;
  ring.versions.push_back(fresh);
  save();
  m_jwks.erase(ring.name);
  fault_point("rotate.after_state");
  audit_key_event("key_generated", ring, fresh);
  audit_key_event("key_promoted", ring, promoted);
  audit_key_event("key_demoted", ring, demoted);
  m_audit.checkpoint();
  log::notice("keyd.rotated", {{"keyring", ring.name}, {"current", promoted.kid}, {"next", fresh.kid}});
  return {info_of(ring, promoted), info_of(ring, fresh), info_of(ring, demoted)};
}

void KeyringStore::retire_expired_locked(std::int64_t now) {
  for (auto& [name, ring] : m_state.keyrings) {
    for (KeyVersion& v : ring.versions) {
      if (v.state != KeyState::previous || now < v.demoted + m_cfg.rotation.verify_window_seconds) {
        continue;
      }
      v.state = KeyState::retired;
      v.retired = now;
      save();
      m_jwks.erase(name);
      fault_point("retire.after_state");
      audit_key_event("key_retired", ring, v);
      destroy_label(signing_key_label(name, v.version));
      fault_point("retire.after_destroy");
      audit_key_event("key_destroyed", ring, v);
      log::notice("keyd.key_retired", {{"keyring", name}, {"kid", v.kid}});
    }
  }
}

void KeyringStore::run_schedule(std::int64_t now) {
  const std::unique_lock lock(m_mutex);
  if (m_cfg.rotation.period_days > 0) {
    const std::int64_t period = static_cast<std::int64_t>(m_cfg.rotation.period_days) * 86400;
    for (auto& [name, ring] : m_state.keyrings) {
      const KeyVersion* current = ring.find(KeyState::current);
      const KeyVersion* next = ring.find(KeyState::next);
      if (now - current->promoted >= period && now - next->created >= m_cfg.rotation.min_prepublish_seconds) {
        try {
          m_audit.append(AuditEvent{"rotate_requested", "schedule", name, "", "ok", std::nullopt, "", {}});
          rotate_locked(ring, false, now);
        } catch (const std::exception& e) {
          log::error("keyd.scheduled_rotation_failed", {{"keyring", name}, {"reason", e.what()}});
        }
      }
    }
  }
  retire_expired_locked(now);
}

}  // namespace orbitnest::keyd
