#include "keyd/keyring/keyring_store.h"

namespace orbitnest::keyd {

KeyringStore::KeyringStore(p11::Token& token, AuditLog& audit, const config::KeydConfig& cfg)
    : m_audit(audit),
      m_handles(token),
      m_registry(token, m_handles, audit, cfg),
      m_audit_signer(token, m_handles, m_registry),
      m_symmetric(token, m_handles, m_registry),
      m_signer(token, m_handles, m_registry, m_counter, cfg),
      m_jwks(token, m_handles, m_registry),
      m_listing(m_registry, m_counter, cfg),
      m_rotator(m_registry, m_jwks, m_handles, m_listing, audit, cfg),
      m_admin_tokens(m_registry, m_jwks, cfg) {}

void KeyringStore::open() {
  m_registry.load();
  // Before anything else is recorded (reconcile appends records): the log
  // keyd continues must verify with the HSM audit key.
  m_audit_signer.open(m_audit);
  m_registry.reconcile();
  m_symmetric.open();
  m_registry.ensure_admin_keyring();
}

}  // namespace orbitnest::keyd
