#include "keyd/keyring/key_rotator.h"

#include <boost/json.hpp>

#include "keyd/keyring/fault_point.h"
#include "systemd/log.h"

namespace orbitnest::keyd {

std::vector<KeyInfo> KeyRotator::rotate(const std::string& keyring, bool force, const AuditEvent& requested_by) {
  KeyringRegistry::Exclusive x = m_registry.exclusive();
  Keyring& ring = x.keyring(keyring);
  const std::int64_t now = now_seconds();
  const KeyVersion* next = ring.find(KeyState::next);
  if (!force && now - next->created < m_cfg.rotation.min_prepublish_seconds) {
    throw KeyringRefused("the next key of " + keyring + " was published " + std::to_string(now - next->created) +
                         " s ago; rotation.min_prepublish_seconds is " +
                         std::to_string(m_cfg.rotation.min_prepublish_seconds) + " (use --force to override)");
  }
  AuditEvent intent = requested_by;
  intent.event = "rotate_requested";
  intent.keyring = keyring;
  intent.detail["force"] = force;  // beside what the requester put there (an admin's name)
  m_audit.append(intent);  // fail closed: no record, no rotation
  std::vector<KeyInfo> result = rotate_locked(x, ring, now);
  retire_expired_locked(x, now);
  return result;
}

std::vector<KeyInfo> KeyRotator::rotate_locked(KeyringRegistry::Exclusive& x, Keyring& ring, std::int64_t now) {
  // A rotation ends with a signed checkpoint. Sign one now, before any key
  // moves: an HSM that cannot sign (or an audit log that cannot be
  // written) refuses the rotation here, instead of failing once the state
  // has changed and answering "refused" for a rotation that happened.
  m_audit.checkpoint();
  fault_point("rotate.after_intent");
  const KeyVersion fresh = m_registry.generate_version(ring.name, ring.algorithm, ring.highest_version() + 1, now);
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
  x.save();
  m_jwks.invalidate(ring.name);
  fault_point("rotate.after_state");
  audit_key_event(m_audit, "key_generated", ring, fresh);
  audit_key_event(m_audit, "key_promoted", ring, promoted);
  audit_key_event(m_audit, "key_demoted", ring, demoted);
  m_audit.checkpoint();
  log::notice("keyd.rotated", {{"keyring", ring.name}, {"current", promoted.kid}, {"next", fresh.kid}});
  return {m_listing.describe(ring, promoted), m_listing.describe(ring, fresh), m_listing.describe(ring, demoted)};
}

void KeyRotator::retire_expired_locked(KeyringRegistry::Exclusive& x, std::int64_t now) {
  for (auto& [name, ring] : x.state().keyrings) {
    for (KeyVersion& v : ring.versions) {
      if (v.state != KeyState::previous || now < v.demoted + m_cfg.rotation.verify_window_seconds) {
        continue;
      }
      v.state = KeyState::retired;
      v.retired = now;
      x.save();
      m_jwks.invalidate(name);
      fault_point("retire.after_state");
      audit_key_event(m_audit, "key_retired", ring, v);
      m_handles.destroy(signing_key_label(name, v.version));
      fault_point("retire.after_destroy");
      audit_key_event(m_audit, "key_destroyed", ring, v);
      log::notice("keyd.key_retired", {{"keyring", name}, {"kid", v.kid}});
    }
  }
}

void KeyRotator::run_schedule(std::int64_t now) {
  KeyringRegistry::Exclusive x = m_registry.exclusive();
  if (m_cfg.rotation.period_days > 0) {
    const std::int64_t period = static_cast<std::int64_t>(m_cfg.rotation.period_days) * 86400;
    for (auto& [name, ring] : x.state().keyrings) {
      const KeyVersion* current = ring.find(KeyState::current);
      const KeyVersion* next = ring.find(KeyState::next);
      if (now - current->promoted >= period && now - next->created >= m_cfg.rotation.min_prepublish_seconds) {
        try {
          m_audit.append(AuditEvent{"rotate_requested", "schedule", name, "", "ok", std::nullopt, "", {}});
          rotate_locked(x, ring, now);
        } catch (const std::exception& e) {
          log::error("keyd.scheduled_rotation_failed", {{"keyring", name}, {"reason", e.what()}});
        }
      }
    }
  }
  retire_expired_locked(x, now);
}

}  // namespace orbitnest::keyd
