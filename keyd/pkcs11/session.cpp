#include "keyd/pkcs11/session.h"

#include "keyd/pkcs11/module.h"
#include "keyd/pkcs11/pkcs11_error.h"

namespace orbitnest::keyd::p11 {

Session::Session(const Module& module, CK_SLOT_ID slot) : m_fn(&module.fn()) {
  check("C_OpenSession", m_fn->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &m_handle));
}

Session::~Session() {
  if (m_handle != CK_INVALID_HANDLE) {
    m_fn->C_CloseSession(m_handle);
  }
}

}  // namespace orbitnest::keyd::p11
