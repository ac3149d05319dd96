#include "keyd/keyring/jwks_publisher.h"

#include <boost/json.hpp>

#include "keyd/keyring/jwk.h"
#include "keyd/pkcs11/signing_key.h"

namespace orbitnest::keyd {

std::string JwksPublisher::jwks(const std::string& keyring) {
  m_registry.look_for(keyring);
  try {
    return build(keyring);
  } catch (const KeyringRefused&) {
    throw;
  } catch (const std::exception&) {
    // A key another keyd on the token retired since this one last looked
    // (its state is at most state.refresh_ms old): look again, once.
    m_registry.refresh(true);
    return build(keyring);
  }
}

std::string JwksPublisher::build(const std::string& keyring) {
  return m_registry.read([&](const KeydStateFile& state) {
    const Keyring& ring = keyring_named(state, keyring);
    // Which keys are published, in order: a JWKS is cached for exactly
    // these (two keyd may each have read a generation the other's write
    // replaced, so the generation number alone does not name a key set).
    std::string published;
    for (const KeyVersion& v : ring.versions) {
      if (v.state != KeyState::retired) {
        published += v.kid + ":" + std::string(key_state_name(v.state)) + ",";
      }
    }
    {
      const std::lock_guard lock(m_mutex);
      const auto cached = m_cache.find(keyring);
      if (cached != m_cache.end() && cached->second.first == published) {
        return cached->second.second;
      }
    }
    boost::json::array keys;
    for (const KeyState wanted : {KeyState::current, KeyState::next, KeyState::previous}) {
      for (const KeyVersion& v : ring.versions) {
        if (v.state != wanted) {
          continue;
        }
        const CK_OBJECT_HANDLE pub = m_handles.find(CKO_PUBLIC_KEY, version_label(ring.name, v));
        const p11::PublicKey key =
            m_token.with_session([&](p11::Session& s) { return p11::read_public_key(s, ring.algorithm, pub); });
        keys.push_back(to_jwk(key, v.kid));
      }
    }
    std::string out = boost::json::serialize(boost::json::object{{"keys", keys}});
    const std::lock_guard lock(m_mutex);
    m_cache[keyring] = {published, out};
    return out;
  });
}

void JwksPublisher::invalidate(const std::string& keyring) {
  const std::lock_guard lock(m_mutex);
  m_cache.erase(keyring);
}

}  // namespace orbitnest::keyd
