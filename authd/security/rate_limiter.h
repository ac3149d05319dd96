#pragma once
// Fixed-window counters in Postgres, so that every authd node in front of
// one database shares them. Over the limit: ApiError 429 with Retry-After.
#include <pqxx/pqxx>

#include <string>
#include <utility>
#include <vector>

#include "authd/db/pg_pool.h"

namespace orbitnest::authd {

// True when `key` has already reached `limit` hits in the current window
// (to refuse up front, before doing the work whose failures are counted).
bool rate_limit_reached(pqxx::transaction_base& tx, const std::string& key, int limit, int window_seconds);

// Registers the statement add_hits() uses (prepared per connection).
void prepare_rate_limiter(PgPool& pg);

struct CounterTotal {
  std::string key;
  int hits;             // in the current window, every node's
  double seconds_left;  // of the current window
};
// Adds each (key, hits) to its counter in fixed windows of `window_seconds`
// (a window that is over starts again), in one statement with an
// asynchronous commit; returns the totals. rate_limit_hit() and the
// per-IP limiter's flush (SharedRateLimiter) both count through it.
std::vector<CounterTotal> add_hits(pqxx::connection& conn, std::vector<std::pair<std::string, int>> counts,
                                   int window_seconds);

// Counts one hit for `key` in the current window of `window_seconds`, in a
// transaction of its own (a hit must count even when the request then
// fails, or failures would be free); throws ApiError(429, code) when hits
// exceed `limit`. Call it before opening the flow's own transaction.
void rate_limit_hit(pqxx::connection& conn, const std::string& key, int limit, int window_seconds,
                    const std::string& error_code, const std::string& message);

// Deletes the counter `key` and every per-client counter under it
// ("<key>@<network>"): an operator lifting a lock.
void clear_counters(pqxx::transaction_base& tx, const std::string& key);

}  // namespace orbitnest::authd
