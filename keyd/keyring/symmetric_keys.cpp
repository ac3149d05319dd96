#include "keyd/keyring/symmetric_keys.h"

#include <algorithm>
#include <string>
#include <vector>

#include "keyd/pkcs11/objects.h"
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
  m_registry.with_retries([&] {
    KeyringRegistry::Exclusive x = m_registry.exclusive();
    std::vector<CK_OBJECT_HANDLE> made;
    try {
      for (const SymmetricPurpose purpose : kPurposes) {
        SymmetricKeyVersions& v = versions_of(x.state(), purpose);
        if (v.current == 0) {
          made.push_back(m_token.with_session(
              [&](p11::Session& s) { return p11::generate_secret_key(s, kind_of(purpose), label_of(purpose, 1)); }));
          v.current = 1;
          v.versions = {1};
        }
      }
      if (!made.empty()) {
        x.save();
      }
    } catch (const StateConflict&) {
      // Another keyd on the token made them first (two nodes started at
      // once on a new token): its keys are the ones; ours go, so that
      // each label names one key.
      m_token.with_session([&](p11::Session& s) {
        for (const CK_OBJECT_HANDLE h : made) {
          p11::destroy_object(s, h);
        }
        return 0;
      });
      throw;
    }
    return 0;
  });
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
