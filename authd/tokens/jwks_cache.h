#pragma once
// Public keys of every keyring authd verifies tokens for, fetched from
// keyd and kept for a minute, so that reading a session costs no round trip
// to keyd. An unknown kid refreshes the set at most once a second (a kid
// just rotated in), never on every request (a forged kid).
#include <botan/pk_keys.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "authd/keyd/keyd_link.h"

namespace orbitnest::authd {

struct VerificationKey {
  std::string alg;  // "ES256", "RS256", "EdDSA"
  std::shared_ptr<const Botan::Public_Key> key;
};

class JwksCache final {
 public:
  explicit JwksCache(KeydLink& keyd) : m_keyd(keyd) {}

  // The keyring's JWKS JSON as keyd publishes it (for /.well-known/jwks.json).
  std::string jwks_json(const std::string& keyring);
  // nullptr when the keyring has no such kid (after at most one refresh).
  std::shared_ptr<const VerificationKey> key(const std::string& keyring, const std::string& kid);

 private:
  struct Entry {
    std::string json;
    std::map<std::string, std::shared_ptr<const VerificationKey>> keys;
    std::chrono::steady_clock::time_point fetched;
  };
  std::shared_ptr<const Entry> fetch(const std::string& keyring);
  std::shared_ptr<const Entry> get(const std::string& keyring, bool force_if_stale_by_1s);

  KeydLink& m_keyd;
  std::mutex m_mutex;
  std::map<std::string, std::shared_ptr<const Entry>> m_entries;
};

}  // namespace orbitnest::authd
