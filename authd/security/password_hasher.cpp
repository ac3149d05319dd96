#include "authd/security/password_hasher.h"

#include <botan/argon2.h>
#include <botan/system_rng.h>

#include <chrono>
#include <cstdio>

#include "authd/api/api_error.h"
#include "keyd/keyring/base64url.h"

namespace orbitnest::authd {

class PasswordHasher::Slot final {
 public:
  explicit Slot(PasswordHasher& h) : m_h(h) {
    std::unique_lock lock(h.m_mutex);
    if (!h.m_free.wait_for(lock, std::chrono::seconds(2), [&] { return h.m_busy < h.m_max; })) {
      ApiError e(503, "over_capacity", "Too many sign-ins at once; retry shortly");
      e.retry_after = 1;
      throw e;
    }
    ++h.m_busy;
  }
  ~Slot() {
    {
      const std::lock_guard lock(m_h.m_mutex);
      --m_h.m_busy;
    }
    m_h.m_free.notify_one();
  }
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;

 private:
  PasswordHasher& m_h;
};

PasswordHasher::PasswordHasher(KeydLink& keyd, Argon2Params params, int max_concurrent)
    : m_params(params), m_keyd(keyd), m_max(max_concurrent) {
  m_dummy_phc = Botan::argon2_generate_pwhash("dummy", 5, Botan::system_rng(), m_params.parallelism,
                                              m_params.memory_kib, m_params.iterations, 2);
}

std::string PasswordHasher::peppered(const std::string& password, int version, int* used_version) {
  return keyd::base64url_encode(m_keyd.mac("password", password, version, used_version));
}

PasswordHash PasswordHasher::hash(const std::string& password) {
  int version = 0;
  const std::string input = peppered(password, 0, &version);
  const Slot slot(*this);
  return PasswordHash{Botan::argon2_generate_pwhash(input.data(), input.size(), Botan::system_rng(),
                                                    m_params.parallelism, m_params.memory_kib, m_params.iterations, 2),
                      version};
}

bool PasswordHasher::verify(const std::string& password, const std::string& phc, int pepper_version,
                            bool* needs_rehash) {
  int version = 0;
  const std::string input = peppered(password, pepper_version, &version);
  bool ok = false;
  {
    const Slot slot(*this);
    ok = Botan::argon2_check_pwhash(input.data(), input.size(), phc);
  }
  char expected[64];
  std::snprintf(expected, sizeof(expected), "$m=%zu,t=%zu,p=%zu$", m_params.memory_kib, m_params.iterations,
                m_params.parallelism);
  *needs_rehash = phc.find(expected) == std::string::npos;
  return ok;
}

void PasswordHasher::dummy_verify(const std::string& password) {
  bool ignored = false;
  (void)verify(password, m_dummy_phc, 0, &ignored);
}

}  // namespace orbitnest::authd
