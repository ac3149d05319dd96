#include "authd/tokens/jwks_cache.h"

#include <boost/json.hpp>

#include "keyd/keyring/jwk_public_key.h"

namespace orbitnest::authd {
namespace {

constexpr auto kTtl = std::chrono::seconds(60);
constexpr auto kMinRefresh = std::chrono::seconds(1);

}  // namespace

std::shared_ptr<const JwksCache::Entry> JwksCache::fetch(const std::string& keyring) {
  auto entry = std::make_shared<Entry>();
  entry->json = m_keyd.client().jwks(keyring);
  entry->fetched = std::chrono::steady_clock::now();
  const boost::json::value parsed = boost::json::parse(entry->json);  // must outlive the loop
  for (const boost::json::value& k : parsed.at("keys").as_array()) {
    const boost::json::object& jwk = k.as_object();
    auto vk = std::make_shared<VerificationKey>();
    vk->alg = std::string(jwk.at("alg").as_string());
    vk->key = keyd::public_key_from_jwk(jwk);
    entry->keys[std::string(jwk.at("kid").as_string())] = vk;
  }
  return entry;
}

std::shared_ptr<const JwksCache::Entry> JwksCache::get(const std::string& keyring, bool refresh_unknown) {
  const auto now = std::chrono::steady_clock::now();
  {
    const std::lock_guard lock(m_mutex);
    const auto it = m_entries.find(keyring);
    if (it != m_entries.end()) {
      const auto age = now - it->second->fetched;
      if (age < kTtl && (!refresh_unknown || age < kMinRefresh)) {
        return it->second;
      }
    }
  }
  std::shared_ptr<const Entry> fresh = fetch(keyring);
  const std::lock_guard lock(m_mutex);
  m_entries[keyring] = fresh;
  return fresh;
}

std::string JwksCache::jwks_json(const std::string& keyring) { return get(keyring, false)->json; }

std::shared_ptr<const VerificationKey> JwksCache::key(const std::string& keyring, const std::string& kid) {
  std::shared_ptr<const Entry> e = get(keyring, false);
  auto it = e->keys.find(kid);
  if (it != e->keys.end()) {
    return it->second;
  }
  e = get(keyring, true);
  it = e->keys.find(kid);
  return it == e->keys.end() ? nullptr : it->second;
}

}  // namespace orbitnest::authd
