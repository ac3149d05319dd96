// A PKCS#11 module for tests that stands in front of a real one (SoftHSM2)
// and fails on demand, as a sick HSM would: while the file named by
// ORBITNEST_PKCS11_FAULT_FILE exists, C_SignInit, C_Sign and C_Encrypt
// answer CKR_DEVICE_ERROR. Every other call is the real module's, through
// its own function list. The real module is ORBITNEST_PKCS11_REAL_MODULE
// (default: SoftHSM2's). keyd loads it like any vendor module
// (hsm.module), so the failure reaches keyd's real PKCS#11 code.
#include <dlfcn.h>
#include <p11-kit/pkcs11.h>
#include <sys/stat.h>

#include <cstdlib>
#include <memory>
#include <mutex>
#include <vector>

namespace {

struct DlCloser {
  void operator()(void* handle) const noexcept { ::dlclose(handle); }
};

struct Shim {
  std::unique_ptr<void, DlCloser> library;  // the real module, loaded once
  CK_FUNCTION_LIST* real = nullptr;         // owned by it
  CK_FUNCTION_LIST list{};                  // the real list, faulty entries replaced
};

Shim& shim() {
  static Shim s;
  return s;
}

bool fault_on() {
  const char* path = std::getenv("ORBITNEST_PKCS11_FAULT_FILE");
  struct stat st {};
  return path != nullptr && ::stat(path, &st) == 0;
}

CK_RV sign_init(CK_SESSION_HANDLE session, CK_MECHANISM_PTR mechanism, CK_OBJECT_HANDLE key) {
  return fault_on() ? CKR_DEVICE_ERROR : shim().real->C_SignInit(session, mechanism, key);
}

// A failed C_Sign or C_Encrypt ends the operation (PKCS#11 §5.2): end the
// real one as well, so that the session is usable once the fault is gone,
// as it would be on a device that recovered.
CK_RV sign(CK_SESSION_HANDLE session, CK_BYTE_PTR data, CK_ULONG data_len, CK_BYTE_PTR sig, CK_ULONG_PTR sig_len) {
  if (fault_on()) {
    std::vector<CK_BYTE> scratch(8192);
    CK_ULONG n = scratch.size();
    shim().real->C_Sign(session, data, data_len, scratch.data(), &n);
    return CKR_DEVICE_ERROR;
  }
  return shim().real->C_Sign(session, data, data_len, sig, sig_len);
}

CK_RV encrypt(CK_SESSION_HANDLE session, CK_BYTE_PTR data, CK_ULONG data_len, CK_BYTE_PTR out, CK_ULONG_PTR out_len) {
  if (fault_on()) {
    std::vector<CK_BYTE> scratch(data_len + 1024);
    CK_ULONG n = scratch.size();
    shim().real->C_Encrypt(session, data, data_len, scratch.data(), &n);
    return CKR_DEVICE_ERROR;
  }
  return shim().real->C_Encrypt(session, data, data_len, out, out_len);
}

CK_RV load() {
  const char* env = std::getenv("ORBITNEST_PKCS11_REAL_MODULE");
  const char* path = env != nullptr ? env : "/usr/lib/softhsm/libsofthsm2.so";
  Shim& s = shim();
  s.library.reset(::dlopen(path, RTLD_NOW | RTLD_LOCAL));
  auto* get_list =
      s.library ? reinterpret_cast<CK_C_GetFunctionList>(::dlsym(s.library.get(), "C_GetFunctionList")) : nullptr;
  if (get_list == nullptr || get_list(&s.real) != CKR_OK || s.real == nullptr) {
    return CKR_GENERAL_ERROR;
  }
  s.list = *s.real;
  s.list.C_GetFunctionList = C_GetFunctionList;
  s.list.C_SignInit = sign_init;
  s.list.C_Sign = sign;
  s.list.C_Encrypt = encrypt;
  return CKR_OK;
}

}  // namespace

extern "C" CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list) {
  static std::once_flag once;
  static CK_RV loaded = CKR_GENERAL_ERROR;
  std::call_once(once, [] { loaded = load(); });
  if (loaded != CKR_OK) {
    return loaded;
  }
  if (list == nullptr) {
    return CKR_ARGUMENTS_BAD;
  }
  *list = &shim().list;
  return CKR_OK;
}
