#pragma once
// The HSM token keyd works with: found by label, logged in once on an
// anchor session, with a pool of sessions for concurrent operations.
// with_session() recovers from a lost login or a closed session
// (CKR_USER_NOT_LOGGED_IN, CKR_SESSION_HANDLE_INVALID, CKR_DEVICE_REMOVED)
// by logging in again and retrying once; a second failure is thrown.
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "hardening/secret_bytes.h"
#include "keyd/pkcs11/module.h"
#include "keyd/pkcs11/pkcs11_error.h"
#include "keyd/pkcs11/session.h"

namespace orbitnest::keyd::p11 {

class Token final {
 public:
  // Throws std::runtime_error (no token with that label) or Pkcs11Error
  // (e.g. CKR_PIN_INCORRECT).
  Token(std::shared_ptr<Module> module, const std::string& label, hardening::SecretBytes pin, int pool_size);
  Token(const Token&) = delete;
  Token& operator=(const Token&) = delete;

  const std::string& label() const { return m_label; }
  CK_SLOT_ID slot() const { return m_slot; }

  template <typename F>
  auto with_session(F&& f) {
    Lease lease(*this);
    try {
      return f(lease.session());
    } catch (const Pkcs11Error& e) {
      if (!e.recoverable()) {
        throw;
      }
      lease.discard();
      recover();
      Lease again(*this);
      return f(again.session());
    }
  }

  std::vector<std::uint8_t> random_bytes(std::size_t n);

 private:
  class Lease final {
   public:
    explicit Lease(Token& token);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Session& session() { return *m_session; }
    // The session is broken: close it instead of returning it to the pool.
    void discard() { m_session.reset(); }

   private:
    Token& m_token;
    std::unique_ptr<Session> m_session;
  };

  static CK_SLOT_ID find_slot(const Module& module, const std::string& label);
  void login();
  void recover();

  std::shared_ptr<Module> m_module;
  std::string m_label;
  CK_SLOT_ID m_slot;
  hardening::SecretBytes m_pin;
  std::mutex m_mutex;
  std::condition_variable m_available;
  std::unique_ptr<Session> m_anchor;  // holds the login for the application
  std::vector<std::unique_ptr<Session>> m_idle;
  int m_pool_size;
  int m_open = 0;  // sessions existing (idle + leased)
};

}  // namespace orbitnest::keyd::p11
