#pragma once
// PKCS#11 object handles by class and label. Finding an object is a search
// on the token; signing is hot, so a handle found once is kept until the
// object is destroyed through destroy().
#include <map>
#include <mutex>
#include <string>

#include "keyd/pkcs11/token.h"

namespace orbitnest::keyd {

class HandleCache final {
 public:
  explicit HandleCache(p11::Token& token) : m_token(token) {}
  HandleCache(const HandleCache&) = delete;
  HandleCache& operator=(const HandleCache&) = delete;

  // Throws if the token holds no such object.
  CK_OBJECT_HANDLE find(CK_OBJECT_CLASS cls, const std::string& label);
  // Destroys every object (private, public, secret) under `label` and
  // forgets their handles: a destroyed handle may be reused by the token.
  void destroy(const std::string& label);

 private:
  p11::Token& m_token;
  std::mutex m_mutex;
  std::map<std::string, CK_OBJECT_HANDLE> m_handles;  // "<class>:<label>" -> handle
};

}  // namespace orbitnest::keyd
