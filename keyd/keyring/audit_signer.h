#pragma once
// The audit key: an ES256 key in the HSM that signs the audit log's
// checkpoints, so the log cannot be rewritten without the token.
#include <string>
#include <string_view>

#include "keyd/audit/audit_log.h"
#include "keyd/keyring/handle_cache.h"
#include "keyd/keyring/keyring_registry.h"
#include "keyd/pkcs11/token.h"

namespace orbitnest::keyd {

class AuditSigner final {
 public:
  AuditSigner(p11::Token& token, HandleCache& handles, KeyringRegistry& registry)
      : m_token(token), m_handles(handles), m_registry(registry) {}

  // Generates the audit key if the state has none, then makes `audit` sign
  // with it: the log keyd continues must verify with this key, and its
  // head gets a checkpoint. Before anything else is recorded.
  void open(AuditLog& audit);
  // Signs `message` (a checkpoint) with the audit key.
  std::string sign(std::string_view message);
  std::string public_key_pem();

 private:
  p11::Token& m_token;
  HandleCache& m_handles;
  KeyringRegistry& m_registry;
  std::string m_label;  // set by open(); the audit key does not change while keyd runs
};

}  // namespace orbitnest::keyd
