#pragma once
// keyd's key custody, assembled: one object of each part below, over one
// token, one audit log and one state file, opened in the order they
// depend on. Each part is one concept:
//   KeyringRegistry  keyrings + state file + reconcile (keyring_registry.h)
//   JwtSigner        claims policy by keyring kind, signing (jwt_signer.h)
//   JwksPublisher    public keys as JWKS, cached (jwks_publisher.h)
//   KeyRotator       rotation, retirement, the schedule (key_rotator.h)
//   KeyListing       keys with their counts for list_keys (key_listing.h)
//   SignCounter      signatures per key, audit summaries (sign_counter.h)
//   SymmetricKeys    sealing and pepper keys by purpose (symmetric_keys.h)
//   AuditSigner      the audit log's checkpoint key (audit_signer.h)
//   AdminTokenVerifier  admin access tokens keyd acts on (admin_token_verifier.h)
//   HandleCache      PKCS#11 handles by label (handle_cache.h)
#include "config/keyd_config.h"
#include "keyd/audit/audit_log.h"
#include "keyd/keyring/admin_token_verifier.h"
#include "keyd/keyring/audit_signer.h"
#include "keyd/keyring/handle_cache.h"
#include "keyd/keyring/jwks_publisher.h"
#include "keyd/keyring/jwt_signer.h"
#include "keyd/keyring/key_listing.h"
#include "keyd/keyring/key_rotator.h"
#include "keyd/keyring/keyring_registry.h"
#include "keyd/keyring/sign_counter.h"
#include "keyd/keyring/symmetric_keys.h"
#include "keyd/pkcs11/token.h"

namespace orbitnest::keyd {

class KeyringStore final {
 public:
  KeyringStore(p11::Token& token, AuditLog& audit, const config::KeydConfig& cfg);
  KeyringStore(const KeyringStore&) = delete;
  KeyringStore& operator=(const KeyringStore&) = delete;

  // Loads and reconciles the state, creates what is missing (audit,
  // sealing and pepper keys, the admin keyring). Throws on an
  // inconsistency it cannot repair.
  void open();

  KeyringRegistry& registry() { return m_registry; }
  JwtSigner& signer() { return m_signer; }
  JwksPublisher& jwks() { return m_jwks; }
  KeyRotator& rotator() { return m_rotator; }
  KeyListing& listing() { return m_listing; }
  SymmetricKeys& symmetric_keys() { return m_symmetric; }
  AuditSigner& audit_signer() { return m_audit_signer; }
  AdminTokenVerifier& admin_tokens() { return m_admin_tokens; }
  // Writes one audit record per key that signed since the last call.
  void flush_sign_summaries() { m_counter.flush(m_audit); }

 private:
  AuditLog& m_audit;
  // Declared in the order they depend on each other.
  HandleCache m_handles;
  SignCounter m_counter;
  KeyringRegistry m_registry;
  AuditSigner m_audit_signer;
  SymmetricKeys m_symmetric;
  JwtSigner m_signer;
  JwksPublisher m_jwks;
  KeyListing m_listing;
  KeyRotator m_rotator;
  AdminTokenVerifier m_admin_tokens;
};

}  // namespace orbitnest::keyd
