#pragma once
// Rotation, retirement and the rotation schedule. A rotation moves
// next → current → previous and publishes a new next; a previous key is
// retired (unpublished, destroyed) once its verify window has passed.
// Every step writes the HSM first and the state file after, with a fault
// point between them, so that KeyringRegistry::reconcile() can finish or
// undo any step.
#include <cstdint>
#include <string>
#include <vector>

#include "config/keyd_config.h"
#include "keyd/audit/audit_log.h"
#include "keyd/keyring/handle_cache.h"
#include "keyd/keyring/jwks_publisher.h"
#include "keyd/keyring/key_listing.h"
#include "keyd/keyring/keyring_registry.h"

namespace orbitnest::keyd {

class KeyRotator final {
 public:
  KeyRotator(KeyringRegistry& registry, JwksPublisher& jwks, HandleCache& handles, KeyListing& listing,
             AuditLog& audit, const config::KeydConfig& cfg)
      : m_registry(registry), m_jwks(jwks), m_handles(handles), m_listing(listing), m_audit(audit), m_cfg(cfg) {}

  // Refused while the next key is younger than
  // rotation.min_prepublish_seconds unless `force`. Answers the promoted,
  // the new and the demoted key. When another keyd sharing the token
  // rotates the keyring while this one decides, that rotation counts and
  // this one answers the keys as they are then.
  std::vector<KeyInfo> rotate(const std::string& keyring, bool force, const AuditEvent& requested_by);
  // Scheduled rotation and retirement of keys past their window.
  void run_schedule(std::int64_t now);

 private:
  // What rotate() answers when another keyd rotated the keyring first.
  std::vector<KeyInfo> already_rotated(const Keyring& ring);
  std::vector<KeyInfo> rotate_locked(KeyringRegistry::Exclusive& x, Keyring& ring, std::int64_t now);
  void retire_expired_locked(KeyringRegistry::Exclusive& x, std::int64_t now);

  KeyringRegistry& m_registry;
  JwksPublisher& m_jwks;
  HandleCache& m_handles;
  KeyListing& m_listing;
  AuditLog& m_audit;
  const config::KeydConfig& m_cfg;
};

}  // namespace orbitnest::keyd
