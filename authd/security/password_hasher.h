#pragma once
// Passwords: Argon2id over keyd's pepper MAC of the password, so a stolen
// database alone is useless for offline guessing. Hashing is admission-
// controlled: at most `max_concurrent` at once (the cores), and a caller
// that cannot get a slot within a short wait gets 503, so that a sign-in
// flood cannot starve refreshes.
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>

#include "authd/keyd/keyd_link.h"

namespace orbitnest::authd {

struct Argon2Params {
  std::size_t memory_kib = 19456;  // OWASP minimum: 19 MiB
  std::size_t iterations = 2;
  std::size_t parallelism = 1;
};

struct PasswordHash {
  std::string phc;  // $argon2id$v=19$m=..,t=..,p=..$salt$hash
  int pepper_version;
};

class PasswordHasher final {
 public:
  PasswordHasher(KeydLink& keyd, Argon2Params params, int max_concurrent);

  PasswordHash hash(const std::string& password);
  // True when `password` matches; `needs_rehash` says the stored hash uses
  // other parameters than the configured ones.
  bool verify(const std::string& password, const std::string& phc, int pepper_version, bool* needs_rehash);
  // Burns the time of one verification (unknown user: same timing).
  void dummy_verify(const std::string& password);

 private:
  std::string peppered(const std::string& password, int version, int* used_version);
  class Slot;
  Argon2Params m_params;
  KeydLink& m_keyd;
  int m_max;
  int m_busy = 0;
  std::mutex m_mutex;
  std::condition_variable m_free;
  std::string m_dummy_phc;
};

}  // namespace orbitnest::authd
