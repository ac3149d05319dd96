#pragma once
// What list_keys and rotate answer: each key with its place in its life,
// when a previous key leaves the JWKS, and how often it signed.
#include <cstdint>
#include <string>
#include <vector>

#include "config/keyd_config.h"
#include "keyd/keyring/keyring_registry.h"
#include "keyd/keyring/sign_counter.h"

namespace orbitnest::keyd {

struct KeyInfo {
  std::string keyring;
  KeyVersion key;
  std::string algorithm;
  std::uint64_t signatures = 0;  // since keyd started
  std::int64_t retires_at = 0;   // previous keys: when they leave the JWKS
  std::int64_t rotates_at = 0;   // the current key: when the scheduled rotation replaces it (0: none)
};

class KeyListing final {
 public:
  KeyListing(KeyringRegistry& registry, SignCounter& counter, const config::KeydConfig& cfg)
      : m_registry(registry), m_counter(counter), m_cfg(cfg) {}

  KeyInfo describe(const Keyring& ring, const KeyVersion& v);
  // Every key, or those of one keyring (KeyringRefused if it is unknown).
  std::vector<KeyInfo> list(const std::string& keyring_filter);

 private:
  KeyringRegistry& m_registry;
  SignCounter& m_counter;
  const config::KeydConfig& m_cfg;
};

}  // namespace orbitnest::keyd
