#include "authd/security/password_hasher.h"

#include <botan/argon2.h>
#include <botan/system_rng.h>

#include <sched.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <future>

#include "authd/api/api_error.h"
#include "keyd/keyring/base64url.h"
#include "systemd/log.h"

namespace orbitnest::authd {

namespace {

constexpr auto kMaxWait = std::chrono::seconds(2);

[[noreturn]] void refuse() {
  ApiError e(503, "over_capacity", "Too many sign-ins at once; retry shortly");
  e.retry_after = 1;
  throw e;
}

}  // namespace

struct PasswordHasher::Job {
  std::function<std::string()> work;
  std::promise<std::string> result;
  std::atomic<bool> abandoned{false};  // the caller gave up: skip it
};

PasswordHasher::PasswordHasher(KeydLink& keyd, Argon2Params params, int max_concurrent)
    : m_params(params), m_keyd(keyd), m_max_queued(static_cast<std::size_t>(waiting_limit(max_concurrent))) {
  m_dummy_phc = Botan::argon2_generate_pwhash("dummy", 5, Botan::system_rng(), m_params.parallelism,
                                              m_params.memory_kib, m_params.iterations, 2);
  for (int i = 0; i < max_concurrent; ++i) {
    m_threads.emplace_back([this] { hashing_thread(); });
  }
}

PasswordHasher::~PasswordHasher() {
  {
    const std::lock_guard lock(m_mutex);
    m_stopping = true;
  }
  m_queued.notify_all();
  for (std::thread& t : m_threads) {
    t.join();
  }
}

void PasswordHasher::hashing_thread() {
  // The idle scheduling class: any other runnable thread of the machine
  // (refreshes, Postgres, keyd) preempts this one at once, so a sign-in
  // flood costs them almost no latency; on an otherwise idle machine
  // hashing still gets every cycle. (Linux applies it to this thread.)
  sched_param param{};
  if (::sched_setscheduler(0, SCHED_IDLE, &param) != 0) {
    log::warning("authd.hashing_priority", {{"reason", std::strerror(errno)}});
  }
  std::unique_lock lock(m_mutex);
  for (;;) {
    m_queued.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
    if (m_queue.empty()) {
      return;
    }
    const std::shared_ptr<Job> job = std::move(m_queue.front());
    m_queue.pop_front();
    lock.unlock();
    if (!job->abandoned.load()) {
      try {
        job->result.set_value(job->work());
      } catch (...) {
        job->result.set_exception(std::current_exception());
      }
    }
    lock.lock();
  }
}

void PasswordHasher::refuse_if_full_locked() const {
  if (m_queue.size() >= m_max_queued) {
    refuse();
  }
}

void PasswordHasher::admit() {
  const std::lock_guard lock(m_mutex);
  refuse_if_full_locked();
}

std::string PasswordHasher::on_hashing_thread(std::function<std::string()> work) {
  if (m_threads.empty()) {
    return work();  // a command on the box: no queue, no deadline, no idle class
  }
  auto job = std::make_shared<Job>();
  job->work = std::move(work);
  std::future<std::string> result = job->result.get_future();
  {
    const std::lock_guard lock(m_mutex);
    refuse_if_full_locked();
    m_queue.push_back(job);
  }
  m_queued.notify_one();
  if (result.wait_for(kMaxWait) != std::future_status::ready) {
    job->abandoned = true;
    refuse();
  }
  return result.get();
}

std::string PasswordHasher::peppered(const std::string& password, int version, int* used_version) {
  return keyd::base64url_encode(m_keyd.mac("password", password, version, used_version));
}

PasswordHash PasswordHasher::hash(const std::string& password) {
  int version = 0;
  const std::string input = peppered(password, 0, &version);
  const Argon2Params p = m_params;
  return PasswordHash{on_hashing_thread([input, p] {
                        return Botan::argon2_generate_pwhash(input.data(), input.size(), Botan::system_rng(),
                                                             p.parallelism, p.memory_kib, p.iterations, 2);
                      }),
                      version};
}

bool PasswordHasher::verify(const std::string& password, const std::string& phc, int pepper_version,
                            bool* needs_rehash) {
  int version = 0;
  const std::string input = peppered(password, pepper_version, &version);
  const bool ok = on_hashing_thread([input, phc] {
                    return std::string(Botan::argon2_check_pwhash(input.data(), input.size(), phc) ? "1" : "0");
                  }) == "1";
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
