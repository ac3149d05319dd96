#include "keyd/keyring/key_listing.h"

#include "keyd/pkcs11/signing_key.h"

namespace orbitnest::keyd {

KeyInfo KeyListing::describe(const Keyring& ring, const KeyVersion& v) {
  KeyInfo info;
  info.keyring = ring.name;
  info.key = v;
  info.algorithm = std::string(p11::algorithm_info(ring.algorithm).jose_name);
  if (v.state == KeyState::previous) {
    info.retires_at = v.demoted + m_cfg.rotation.verify_window_seconds;
  }
  if (v.state == KeyState::current && m_cfg.rotation.period_days > 0) {
    info.rotates_at = v.promoted + static_cast<std::int64_t>(m_cfg.rotation.period_days) * 86400;
  }
  info.signatures = m_counter.total(v.kid);
  return info;
}

std::vector<KeyInfo> KeyListing::list(const std::string& keyring_filter) {
  if (!keyring_filter.empty()) {
    m_registry.look_for(keyring_filter);
  }
  return m_registry.read([&](const KeydStateFile& state) {
    if (!keyring_filter.empty()) {
      (void)keyring_named(state, keyring_filter);  // refuses an unknown name
    }
    std::vector<KeyInfo> out;
    for (const auto& [name, ring] : state.keyrings) {
      if (!keyring_filter.empty() && name != keyring_filter) {
        continue;
      }
      for (const KeyVersion& v : ring.versions) {
        out.push_back(describe(ring, v));
      }
    }
    return out;
  });
}

}  // namespace orbitnest::keyd
