#pragma once
// The symmetric HSM keys, one series per purpose: sealing (AES-256-GCM,
// blobs authd stores) and pepper (HMAC-SHA-256, password and token MACs).
// Every version the state lists stays usable, so blobs and MACs made under
// an older version still open and verify.
#include <optional>

#include "keyd/keyring/handle_cache.h"
#include "keyd/keyring/keyring_registry.h"
#include "keyd/pkcs11/token.h"

namespace orbitnest::keyd {

enum class SymmetricPurpose { sealing, pepper };

struct SymmetricKey {
  int version;
  CK_OBJECT_HANDLE handle;
};

class SymmetricKeys final {
 public:
  SymmetricKeys(p11::Token& token, HandleCache& handles, KeyringRegistry& registry)
      : m_token(token), m_handles(handles), m_registry(registry) {}

  // Generates version 1 of each purpose that has no key yet.
  void open();
  SymmetricKey current(SymmetricPurpose purpose);
  // nullopt if the state lists no such version.
  std::optional<SymmetricKey> find(SymmetricPurpose purpose, int version);

 private:
  p11::Token& m_token;
  HandleCache& m_handles;
  KeyringRegistry& m_registry;
};

}  // namespace orbitnest::keyd
