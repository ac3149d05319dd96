#pragma once
// One open PKCS#11 session, closed on destruction. It never calls
// C_Logout: login state belongs to the whole application, so logging out
// one pooled session would log out all of them.
#include <p11-kit/pkcs11.h>

#include <utility>

namespace orbitnest::keyd::p11 {

class Module;

class Session final {
 public:
  Session(const Module& module, CK_SLOT_ID slot);
  ~Session();
  // A copy would close the handle while the original still uses it.
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  Session(Session&& other) noexcept
      : m_fn(other.m_fn), m_handle(std::exchange(other.m_handle, CK_INVALID_HANDLE)) {}
  Session& operator=(Session&&) = delete;

  CK_SESSION_HANDLE handle() const { return m_handle; }
  CK_FUNCTION_LIST& fn() const { return *m_fn; }

 private:
  CK_FUNCTION_LIST* m_fn;
  CK_SESSION_HANDLE m_handle = CK_INVALID_HANDLE;
};

}  // namespace orbitnest::keyd::p11
