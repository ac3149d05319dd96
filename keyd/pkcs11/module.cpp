#include "keyd/pkcs11/module.h"

#include <dlfcn.h>

#include <stdexcept>

#include "keyd/pkcs11/pkcs11_error.h"

namespace orbitnest::keyd::p11 {

void Module::DlCloser::operator()(void* handle) const noexcept { ::dlclose(handle); }

Module::Module(const std::string& path) : m_path(path) {
  // RTLD_LOCAL: the module's symbols must not interpose on ours.
  m_library.reset(::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL));
  if (!m_library) {
    const char* why = ::dlerror();
    throw std::runtime_error("cannot load PKCS#11 module " + path + ": " + (why ? why : "unknown error"));
  }
  auto* get_list = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(m_library.get(), "C_GetFunctionList"));
  if (get_list == nullptr) {
    throw std::runtime_error("PKCS#11 module " + path + " has no C_GetFunctionList");
  }
  check("C_GetFunctionList", get_list(&m_fn));
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  check("C_Initialize", m_fn->C_Initialize(&args));
}

Module::~Module() {
  if (m_fn != nullptr) {
    m_fn->C_Finalize(nullptr);
  }
}

}  // namespace orbitnest::keyd::p11
