#pragma once
// A loaded PKCS#11 module (any vendor's .so), initialised for a
// multithreaded caller (CKF_OS_LOCKING_OK) and finalised on destruction.
#include <p11-kit/pkcs11.h>

#include <memory>
#include <string>

namespace orbitnest::keyd::p11 {

class Module final {
 public:
  // Throws std::runtime_error (cannot load) or Pkcs11Error (init failed).
  explicit Module(const std::string& path);
  ~Module();
  // C_Finalize would pull the library from under a copy.
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  CK_FUNCTION_LIST& fn() const { return *m_fn; }
  const std::string& path() const { return m_path; }

 private:
  struct DlCloser {
    void operator()(void* handle) const noexcept;
  };
  std::string m_path;
  std::unique_ptr<void, DlCloser> m_library;
  CK_FUNCTION_LIST* m_fn = nullptr;  // owned by the library, valid while loaded
};

}  // namespace orbitnest::keyd::p11
