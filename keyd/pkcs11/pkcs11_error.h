#pragma once
// A failed PKCS#11 call: which call, and its CKR_ code by name.
#include <p11-kit/pkcs11.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace orbitnest::keyd::p11 {

class Pkcs11Error final : public std::runtime_error {
 public:
  Pkcs11Error(std::string_view call, CK_RV rv);
  CK_RV rv() const { return m_rv; }
  // The session or login is gone; re-login and one retry may succeed.
  bool recoverable() const;

 private:
  CK_RV m_rv;
};

std::string_view rv_name(CK_RV rv);
// Throws Pkcs11Error unless rv == CKR_OK.
void check(std::string_view call, CK_RV rv);

}  // namespace orbitnest::keyd::p11
