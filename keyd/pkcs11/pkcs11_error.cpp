#include "keyd/pkcs11/pkcs11_error.h"

#include <array>
#include <cstdio>
#include <utility>

namespace orbitnest::keyd::p11 {
namespace {

constexpr std::array<std::pair<CK_RV, std::string_view>, 24> kNames = {{
    {CKR_OK, "CKR_OK"},
    {CKR_HOST_MEMORY, "CKR_HOST_MEMORY"},
    {CKR_SLOT_ID_INVALID, "CKR_SLOT_ID_INVALID"},
    {CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR"},
    {CKR_FUNCTION_FAILED, "CKR_FUNCTION_FAILED"},
    {CKR_ARGUMENTS_BAD, "CKR_ARGUMENTS_BAD"},
    {CKR_ATTRIBUTE_VALUE_INVALID, "CKR_ATTRIBUTE_VALUE_INVALID"},
    {CKR_DEVICE_ERROR, "CKR_DEVICE_ERROR"},
    {CKR_DEVICE_REMOVED, "CKR_DEVICE_REMOVED"},
    {CKR_KEY_HANDLE_INVALID, "CKR_KEY_HANDLE_INVALID"},
    {CKR_MECHANISM_INVALID, "CKR_MECHANISM_INVALID"},
    {CKR_OBJECT_HANDLE_INVALID, "CKR_OBJECT_HANDLE_INVALID"},
    {CKR_PIN_INCORRECT, "CKR_PIN_INCORRECT"},
    {CKR_PIN_LOCKED, "CKR_PIN_LOCKED"},
    {CKR_SESSION_CLOSED, "CKR_SESSION_CLOSED"},
    {CKR_SESSION_HANDLE_INVALID, "CKR_SESSION_HANDLE_INVALID"},
    {CKR_TOKEN_NOT_PRESENT, "CKR_TOKEN_NOT_PRESENT"},
    {CKR_TOKEN_NOT_RECOGNIZED, "CKR_TOKEN_NOT_RECOGNIZED"},
    {CKR_USER_ALREADY_LOGGED_IN, "CKR_USER_ALREADY_LOGGED_IN"},
    {CKR_USER_NOT_LOGGED_IN, "CKR_USER_NOT_LOGGED_IN"},
    {CKR_USER_PIN_NOT_INITIALIZED, "CKR_USER_PIN_NOT_INITIALIZED"},
    {CKR_CRYPTOKI_NOT_INITIALIZED, "CKR_CRYPTOKI_NOT_INITIALIZED"},
    {CKR_CRYPTOKI_ALREADY_INITIALIZED, "CKR_CRYPTOKI_ALREADY_INITIALIZED"},
    {CKR_BUFFER_TOO_SMALL, "CKR_BUFFER_TOO_SMALL"},
}};

std::string describe(std::string_view call, CK_RV rv) {
  std::string out(call);
  out += " failed: ";
  out += rv_name(rv);
  return out;
}

}  // namespace

std::string_view rv_name(CK_RV rv) {
  for (const auto& [code, name] : kNames) {
    if (code == rv) {
      return name;
    }
  }
  return "CKR_(other)";
}

Pkcs11Error::Pkcs11Error(std::string_view call, CK_RV rv) : std::runtime_error(describe(call, rv)), m_rv(rv) {}

bool Pkcs11Error::recoverable() const {
  return m_rv == CKR_USER_NOT_LOGGED_IN || m_rv == CKR_SESSION_HANDLE_INVALID || m_rv == CKR_SESSION_CLOSED ||
         m_rv == CKR_DEVICE_REMOVED;
}

void check(std::string_view call, CK_RV rv) {
  if (rv != CKR_OK) {
    throw Pkcs11Error(call, rv);
  }
}

}  // namespace orbitnest::keyd::p11
