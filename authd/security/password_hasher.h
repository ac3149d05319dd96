#pragma once
// Passwords: Argon2id over keyd's pepper MAC of the password, so a stolen
// database alone is useless for offline guessing.
//
// Hashing runs on its own threads (`max_concurrent`; authd's default is
// one per core but one) in the idle scheduling class: a sign-in flood gets
// every spare cycle, and is preempted at once by anything else. A request waits for a hash in
// a bounded queue (waiting_limit()); beyond it, or after two seconds, it
// gets 503 + Retry-After. The requests that wait run on a worker pool of
// their own (Execution::password), so a flood never holds the workers the
// other requests need.
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

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
  // max_concurrent 0: hash on the caller's thread (authd's commands, which
  // must not be refused for a busy machine).
  PasswordHasher(KeydLink& keyd, Argon2Params params, int max_concurrent);
  ~PasswordHasher();
  PasswordHasher(const PasswordHasher&) = delete;
  PasswordHasher& operator=(const PasswordHasher&) = delete;

  // How many requests may wait for a hash at once, for `max_concurrent`
  // hashing threads: the size of the pool they wait on.
  static int waiting_limit(int max_concurrent) { return 16 + 8 * max_concurrent; }

  // Throws the 503 a hash would get if the wait queue is full now: called
  // first, it spares a refused request the keyd MAC and the database reads.
  void admit();

  PasswordHash hash(const std::string& password);
  // True when `password` matches; `needs_rehash` says the stored hash uses
  // other parameters than the configured ones.
  bool verify(const std::string& password, const std::string& phc, int pepper_version, bool* needs_rehash);
  // Burns the time of one verification (unknown user: same timing).
  void dummy_verify(const std::string& password);

 private:
  struct Job;
  std::string peppered(const std::string& password, int version, int* used_version);
  // Runs `work` on a hashing thread and returns its result, or throws 503.
  std::string on_hashing_thread(std::function<std::string()> work);
  // Throws 503 when waiting_limit() requests already wait (m_mutex held).
  void refuse_if_full_locked() const;
  void hashing_thread();

  Argon2Params m_params;
  KeydLink& m_keyd;
  std::size_t m_max_queued;
  std::mutex m_mutex;
  std::condition_variable m_queued;
  std::deque<std::shared_ptr<Job>> m_queue;
  bool m_stopping = false;
  std::vector<std::thread> m_threads;
  std::string m_dummy_phc;
};

}  // namespace orbitnest::authd
