#include "keyd/keyring/symmetric_keys.h"

#include <algorithm>
#include <string>

#include "keyd/pkcs11/secret_key.h"

namespace orbitnest::keyd {
namespace {

constexpr SymmetricPurpose kPurposes[] = {SymmetricPurpose::sealing, SymmetricPurpose::pepper};

template <typename State>
auto& versions_of(State& state, SymmetricPurpose purpose) {
  return purpose == SymmetricPurpose::sealing ? state.sealing : state.pepper;
}

std::string label_of(SymmetricPurpose purpose, int version) {
  return purpose == SymmetricPurpose::sealing ? sealing_key_label(version) : pepper_key_label(version);
}

p11::SecretKeyKind kind_of(SymmetricPurpose purpose) {
  return purpose == SymmetricPurpose::sealing ? p11::SecretKeyKind::aes_gcm_256 : p11::SecretKeyKind::hmac_sha256;
}

}  // namespace

void SymmetricKeys::open() {
  KeyringRegistry::Exclusive x = m_registry.exclusive();
  bool changed = false;
  for (const SymmetricPurpose purpose : kPurposes) {
    SymmetricKeyVersions& v = versions_of(x.state(), purpose);
    if (v.current == 0) {
      m_token.with_session(
          [&](p11::Session& s) { return p11::generate_secret_key(s, kind_of(purpose), label_of(purpose, 1)); });
      v.current = 1;
      v.versions = {1};
      changed = true;
    }
  }
  if (changed) {
    x.save();
  }
}

SymmetricKey SymmetricKeys::current(SymmetricPurpose purpose) {
  const int version = m_registry.read([&](const KeydStateFile& s) { return versions_of(s, purpose).current; });
  return SymmetricKey{version, m_handles.find(CKO_SECRET_KEY, label_of(purpose, version))};
}

std::optional<SymmetricKey> SymmetricKeys::find(SymmetricPurpose purpose, int version) {
  const bool listed = m_registry.read([&](const KeydStateFile& s) {
    const std::vector<int>& versions = versions_of(s, purpose).versions;
    return std::find(versions.begin(), versions.end(), version) != versions.end();
  });
  if (!listed) {
    return std::nullopt;
  }
  return SymmetricKey{version, m_handles.find(CKO_SECRET_KEY, label_of(purpose, version))};
}

}  // namespace orbitnest::keyd
