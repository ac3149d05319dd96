#include "keyd/keyring/handle_cache.h"

#include <optional>
#include <stdexcept>

#include "keyd/pkcs11/objects.h"

namespace orbitnest::keyd {

CK_OBJECT_HANDLE HandleCache::find(CK_OBJECT_CLASS cls, const std::string& label) {
  const std::string key = std::to_string(cls) + ":" + label;
  {
    const std::lock_guard lock(m_mutex);
    const auto it = m_handles.find(key);
    if (it != m_handles.end()) {
      return it->second;
    }
  }
  const std::optional<CK_OBJECT_HANDLE> h =
      m_token.with_session([&](p11::Session& s) { return p11::find_by_label(s, cls, label); });
  if (!h) {
    throw std::runtime_error("HSM object missing: " + label);
  }
  const std::lock_guard lock(m_mutex);
  m_handles[key] = *h;
  return *h;
}

void HandleCache::destroy(const std::string& label) {
  m_token.with_session([&](p11::Session& s) {
    for (const CK_OBJECT_CLASS cls : {CKO_PRIVATE_KEY, CKO_PUBLIC_KEY, CKO_SECRET_KEY}) {
      if (const std::optional<CK_OBJECT_HANDLE> h = p11::find_by_label(s, cls, label)) {
        p11::destroy_object(s, *h);
      }
    }
    return 0;
  });
  const std::lock_guard lock(m_mutex);
  for (auto it = m_handles.begin(); it != m_handles.end();) {
    if (it->first.substr(it->first.find(':') + 1) == label) {
      it = m_handles.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace orbitnest::keyd
