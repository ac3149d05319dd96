#pragma once
// Per-IP request limits shared by every authd node through Postgres
// (auth.rate_limits), without a Postgres round trip per request: each node
// counts in memory and adds its counts to Postgres in one statement every
// flush interval, reading back the totals of all nodes. A node admits a
// request while the last total it read plus its own unflushed count stays
// within the limit, so on one node the limit is exact, and N nodes overshoot
// it by at most what the other N-1 admit within one interval.
//
// The per-account limits (sends per address, wrong codes, failed sign-ins)
// stay one statement per request (rate_limiter.h): they are few, and each
// must count before the work it guards.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "authd/db/pg_pool.h"

namespace orbitnest::authd {

class SharedRateLimiter final {
 public:
  SharedRateLimiter(PgPool& pg, std::chrono::milliseconds flush_interval);
  ~SharedRateLimiter();  // flushes what is pending, once more
  SharedRateLimiter(const SharedRateLimiter&) = delete;
  SharedRateLimiter& operator=(const SharedRateLimiter&) = delete;

  // Counts one request against `key` in fixed windows of `window_seconds`;
  // throws ApiError 429 (with Retry-After) once `limit` is used up.
  void hit(const std::string& key, int limit, int window_seconds, std::string_view error_code,
           std::string_view message);

  // Adds the pending counts to Postgres now (the flusher's step; tests).
  void flush();

 private:
  using Clock = std::chrono::steady_clock;
  struct Counter {
    int window_seconds = 0;
    int pending = 0;        // admitted here, not yet added to Postgres
    int shared = 0;         // the total in Postgres at the last flush
    Clock::time_point window_end;  // of the window `shared` belongs to
    Clock::time_point last_hit;
  };
  void run();
  void purge_expired();  // every few minutes, from the flusher: expired limits, pending sign-ups, lockouts

  PgPool& m_pg;
  const std::chrono::milliseconds m_interval;
  std::mutex m_mutex;
  std::unordered_map<std::string, Counter> m_counters;
  std::mutex m_flush_mutex;  // one flush at a time
  std::condition_variable m_wake;
  bool m_stopping = false;
  std::thread m_flusher;
};

}  // namespace orbitnest::authd
