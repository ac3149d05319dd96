#include "keyd/keyring/key_rotator.h"

#include <boost/json.hpp>

#include "keyd/keyring/fault_point.h"
#include "systemd/log.h"

namespace orbitnest::keyd {

std::vector<KeyInfo> KeyRotator::rotate(const std::string& keyring, bool force, const AuditEvent& requested_by) {
  std::string seen_current;  // the current key when this request first looked
  return m_registry.with_retries([&]() -> std::vector<KeyInfo> {
    KeyringRegistry::Exclusive x = m_registry.exclusive();
    Keyring& ring = x.keyring(keyring);
    const std::int64_t now = now_seconds();
    const KeyVersion* current = ring.find(KeyState::current);
    if (!seen_current.empty() && current->kid != seen_current) {
      // Another keyd on the same token rotated this keyring while this
      // request was deciding: that rotation is the one asked for.
      log::notice("keyd.rotation_already_done", {{"keyring", keyring}, {"current", current->kid}});
      return already_rotated(ring);
    }
    seen_current = current->kid;
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
  });
}

std::vector<KeyInfo> KeyRotator::already_rotated(const Keyring& ring) {
  const KeyVersion* previous = nullptr;
  for (const KeyVersion& v : ring.versions) {
    if (v.state == KeyState::previous && (previous == nullptr || v.demoted > previous->demoted)) {
      previous = &v;
    }
  }
  std::vector<KeyInfo> out{m_listing.describe(ring, *ring.find(KeyState::current)),
                           m_listing.describe(ring, *ring.find(KeyState::next))};
  if (previous != nullptr) {
    out.push_back(m_listing.describe(ring, *previous));
  }
  return out;
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
  // A lost race throws StateConflict here: the fresh key is named by no
  // state and goes (at once on a token of its own, after the verify window
  // on a shared one: KeyringRegistry::reap_orphans()).
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
      m_handles.destroy(version_label(name, v));
      fault_point("retire.after_destroy");
      audit_key_event(m_audit, "key_destroyed", ring, v);
      log::notice("keyd.key_retired", {{"keyring", name}, {"kid", v.kid}});
    }
  }
}

void KeyRotator::run_schedule(std::int64_t now) {
  if (m_cfg.rotation.period_days > 0) {
    const std::int64_t period = static_cast<std::int64_t>(m_cfg.rotation.period_days) * 86400;
    const auto due = [&](const Keyring& ring) {
      const KeyVersion* current = ring.find(KeyState::current);
      const KeyVersion* next = ring.find(KeyState::next);
      return now - current->promoted >= period && now - next->created >= m_cfg.rotation.min_prepublish_seconds;
    };
    const std::vector<std::string> names = m_registry.read([&](const KeydStateFile& state) {
      std::vector<std::string> out;
      for (const auto& [name, ring] : state.keyrings) {
        if (due(ring)) {
          out.push_back(name);
        }
      }
      return out;
    });
    for (const std::string& name : names) {
      try {
        m_registry.with_retries([&] {
          KeyringRegistry::Exclusive x = m_registry.exclusive();
          Keyring& ring = x.keyring(name);
          if (!due(ring)) {
            return 0;  // another keyd on the token rotated it meanwhile
          }
          m_audit.append(AuditEvent{"rotate_requested", "schedule", name, "", "ok", std::nullopt, "", {}});
          rotate_locked(x, ring, now);
          return 0;
        });
      } catch (const std::exception& e) {
        log::error("keyd.scheduled_rotation_failed", {{"keyring", name}, {"reason", e.what()}});
      }
    }
  }
  try {
    m_registry.with_retries([&] {
      KeyringRegistry::Exclusive x = m_registry.exclusive();
      retire_expired_locked(x, now);
      return 0;
    });
    m_registry.reap_orphans(now);
  } catch (const std::exception& e) {
    log::error("keyd.retirement_failed", {{"reason", e.what()}});
  }
}

}  // namespace orbitnest::keyd
