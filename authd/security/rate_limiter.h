#pragma once
// Fixed-window counters in Postgres, so that every authd node in front of
// one database shares them. Over the limit: ApiError 429 with Retry-After.
#include <pqxx/pqxx>

#include <string>

#include "authd/db/pg_pool.h"

namespace orbitnest::authd {

// True when `key` has already reached `limit` hits in the current window
// (to refuse up front, before doing the work whose failures are counted).
bool rate_limit_reached(pqxx::transaction_base& tx, const std::string& key, int limit, int window_seconds);

// Registers the statement rate_limit_hit() uses (prepared per connection).
void prepare_rate_limiter(PgPool& pg);

// Counts one hit for `key` in the current window of `window_seconds`, in a
// transaction of its own (a hit must count even when the request then
// fails, or failures would be free); throws ApiError(429, code) when hits
// exceed `limit`. Call it before opening the flow's own transaction.
void rate_limit_hit(pqxx::connection& conn, const std::string& key, int limit, int window_seconds,
                    const std::string& error_code, const std::string& message);

}  // namespace orbitnest::authd
