#include "keyd/keyring/audit_signer.h"

#include "keyd/keyring/public_key_pem.h"
#include "keyd/pkcs11/objects.h"
#include "keyd/pkcs11/signing_key.h"

namespace orbitnest::keyd {

void AuditSigner::open(AuditLog& audit) {
  m_label = m_registry.with_retries([&] {
    KeyringRegistry::Exclusive x = m_registry.exclusive();
    if (x.state().audit_key_version == 0) {
      const p11::KeyPair made = m_token.with_session(
          [&](p11::Session& s) { return p11::generate_signing_key(s, p11::Algorithm::es256, audit_key_label(1)); });
      x.state().audit_key_version = 1;
      try {
        x.save();
      } catch (const StateConflict&) {
        // Another keyd on the token made the audit key first: one key per label.
        m_token.with_session([&](p11::Session& s) {
          p11::destroy_object(s, made.private_key);
          p11::destroy_object(s, made.public_key);
          return 0;
        });
        throw;
      }
    }
    return audit_key_label(x.state().audit_key_version);
  });
  audit.start_signing([this](std::string_view msg) { return sign(msg); }, m_label, public_key_pem());
}

std::string AuditSigner::sign(std::string_view message) {
  const CK_OBJECT_HANDLE key = m_handles.find(CKO_PRIVATE_KEY, m_label);
  return m_token.with_session(
      [&](p11::Session& s) { return p11::sign_message(s, p11::Algorithm::es256, key, message); });
}

std::string AuditSigner::public_key_pem() {
  const CK_OBJECT_HANDLE pub = m_handles.find(CKO_PUBLIC_KEY, m_label);
  const p11::PublicKey key =
      m_token.with_session([&](p11::Session& s) { return p11::read_public_key(s, p11::Algorithm::es256, pub); });
  return ec_public_key_pem(key);
}

}  // namespace orbitnest::keyd
