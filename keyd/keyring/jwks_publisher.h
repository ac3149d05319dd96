#pragma once
// The public keys of a keyring as a JWKS: current first, then next (so
// verifiers know it before it signs), then previous (so tokens it signed
// verify until they expire). Built once per set of published keys and
// cached; the state is at most state.refresh_ms older than the token's.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "keyd/keyring/handle_cache.h"
#include "keyd/keyring/keyring_registry.h"
#include "keyd/pkcs11/token.h"

namespace orbitnest::keyd {

class JwksPublisher final {
 public:
  JwksPublisher(p11::Token& token, HandleCache& handles, KeyringRegistry& registry)
      : m_token(token), m_handles(handles), m_registry(registry) {}

  // Throws KeyringRefused for an unknown keyring.
  std::string jwks(const std::string& keyring);
  // Drops the cached JWKS of `keyring`. Call it holding the registry's
  // exclusive lock after changing the keyring: a JWKS is built under the
  // shared lock, so none built from the old state can be cached after this.
  void invalidate(const std::string& keyring);

 private:
  std::string build(const std::string& keyring);

  p11::Token& m_token;
  HandleCache& m_handles;
  KeyringRegistry& m_registry;
  std::mutex m_mutex;
  std::map<std::string, std::pair<std::string, std::string>> m_cache;  // keyring -> (published kids, JWKS)
};

}  // namespace orbitnest::keyd
