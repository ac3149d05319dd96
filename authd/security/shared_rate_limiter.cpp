#include "authd/security/shared_rate_limiter.h"

#include <algorithm>
#include <map>
#include <vector>

#include "authd/api/api_error.h"
#include "authd/security/rate_limiter.h"
#include "systemd/log.h"

namespace orbitnest::authd {
namespace {

// A counter with nothing pending that nobody used for this long is dropped
// (its count lives on in Postgres and is re-learnt at its next flush), so
// the map holds about a minute of addresses, however many an attacker
// rotates through.
constexpr std::chrono::seconds kIdleDrop(60);

// How often rows of windows long over are deleted from auth.rate_limits.
constexpr std::chrono::minutes kPurgeEvery(10);

}  // namespace

SharedRateLimiter::SharedRateLimiter(PgPool& pg, std::chrono::milliseconds flush_interval)
    : m_pg(pg), m_interval(flush_interval) {
  prepare_rate_limiter(pg);  // before the flusher's first lease
  m_flusher = std::thread([this] { run(); });
}

SharedRateLimiter::~SharedRateLimiter() {
  {
    const std::lock_guard lock(m_mutex);
    m_stopping = true;
  }
  m_wake.notify_all();
  m_flusher.join();
}

void SharedRateLimiter::hit(const std::string& key, int limit, int window_seconds, std::string_view error_code,
                            std::string_view message) {
  const Clock::time_point now = Clock::now();
  int retry_after = 0;
  {
    const std::lock_guard lock(m_mutex);
    Counter& c = m_counters[key];
    if (c.window_seconds != window_seconds) {
      c = Counter{window_seconds, c.pending, 0, now + std::chrono::seconds(window_seconds), now};
    }
    if (now >= c.window_end) {
      // The window Postgres told us of is over: only what this node counted
      // since (pending) is known until the next flush.
      c.shared = 0;
      c.window_end = now + std::chrono::seconds(window_seconds);
    }
    c.last_hit = now;
    if (c.shared + c.pending < limit) {
      ++c.pending;
      return;
    }
    retry_after = static_cast<int>(std::chrono::ceil<std::chrono::seconds>(c.window_end - now).count());
  }
  ApiError e(429, std::string(error_code), std::string(message));
  e.retry_after = std::max(1, retry_after);
  throw e;
}

void SharedRateLimiter::flush() {
  const std::lock_guard flushing(m_flush_mutex);
  // What to add, by window length (one statement each).
  std::map<int, std::map<std::string, int>> batches;
  {
    const std::lock_guard lock(m_mutex);
    const Clock::time_point now = Clock::now();
    for (auto it = m_counters.begin(); it != m_counters.end();) {
      if (it->second.pending > 0) {
        batches[it->second.window_seconds][it->first] = it->second.pending;
      } else if (now - it->second.last_hit > kIdleDrop) {
        it = m_counters.erase(it);
        continue;
      }
      ++it;
    }
  }
  if (batches.empty()) {
    return;
  }
  try {
    PgPool::Lease conn = m_pg.lease();
    for (const auto& [window, counts] : batches) {
      const std::vector<CounterTotal> totals =
          add_hits(*conn, std::vector<std::pair<std::string, int>>(counts.begin(), counts.end()), window);
      const Clock::time_point now = Clock::now();
      const std::lock_guard lock(m_mutex);
      for (const CounterTotal& t : totals) {
        const auto it = m_counters.find(t.key);
        if (it == m_counters.end()) {
          continue;
        }
        Counter& c = it->second;
        // Hits admitted while the statement ran stay pending for the next one.
        c.pending = std::max(0, c.pending - counts.at(t.key));
        c.shared = t.hits;
        c.window_end = now + std::chrono::milliseconds(static_cast<long>(t.seconds_left * 1000));
      }
    }
  } catch (const std::exception& e) {
    // Postgres away: the counts stay pending (this node still limits on
    // its own) and go out with the next flush.
    log::warning("authd.rate_limit_flush_failed", {{"error", e.what()}});
  }
}

void SharedRateLimiter::purge_expired() {
  try {
    PgPool::Lease conn = m_pg.lease();
    pqxx::nontransaction q(*conn);
    // No window is longer than a day: older rows would be reset by their
    // next hit anyway, and without this the table keeps every address
    // that ever called.
    q.exec("DELETE FROM auth.rate_limits WHERE window_start < now() - interval '1 day'");
    // The same periodic sweep takes the other rows whose time is over:
    // pending sign-ups past their day (verify refuses them already), and
    // lockouts a year past their last wrong code.
    q.exec("DELETE FROM auth.pending_signups WHERE expires_at < now()");
    q.exec("DELETE FROM auth.code_lockouts WHERE updated_at < now() - interval '400 days'");
  } catch (const std::exception& e) {
    log::warning("authd.rate_limit_purge_failed", {{"error", e.what()}});
  }
}

void SharedRateLimiter::run() {
  Clock::time_point next_purge = Clock::now();  // once at start, then every kPurgeEvery
  std::unique_lock lock(m_mutex);
  while (!m_stopping) {
    m_wake.wait_for(lock, m_interval, [this] { return m_stopping; });
    lock.unlock();
    flush();
    if (Clock::now() >= next_purge) {
      purge_expired();
      next_purge = Clock::now() + kPurgeEvery;
    }
    lock.lock();
  }
}

}  // namespace orbitnest::authd
