#pragma once
// Signs JWTs with a keyring's current key. keyd never signs what it is
// handed: the claims are checked against the keyring kind's rules, then
// keyd builds the JOSE header and the payload itself.
//
// The rules by kind: a project keyring signs only role authenticated or
// anon, its own issuer and the project audiences; the admin keyring only
// the configured admin roles, the admin issuer and the admin audiences.
#include <string>

#include "config/keyd_config.h"
#include "keyd/keyring/claims_policy.h"
#include "keyd/keyring/handle_cache.h"
#include "keyd/keyring/keyring_registry.h"
#include "keyd/keyring/sign_counter.h"
#include "keyd/pkcs11/token.h"

namespace orbitnest::keyd {

class JwtSigner final {
 public:
  JwtSigner(p11::Token& token, HandleCache& handles, KeyringRegistry& registry, SignCounter& counter,
            const config::KeydConfig& cfg)
      : m_token(token), m_handles(handles), m_registry(registry), m_counter(counter), m_cfg(cfg) {}

  // The compact JWS; throws KeyringRefused for an unknown keyring or
  // claims outside its rules.
  std::string sign(const std::string& keyring, const std::string& claims_json);

 private:
  ClaimsPolicy policy_for(const Keyring& ring) const;

  p11::Token& m_token;
  HandleCache& m_handles;
  KeyringRegistry& m_registry;
  SignCounter& m_counter;
  const config::KeydConfig& m_cfg;
};

}  // namespace orbitnest::keyd
