#include "authd/security/rate_limiter.h"

#include <algorithm>

#include "authd/api/api_error.h"

namespace orbitnest::authd {

void rate_limit_hit(pqxx::connection& conn, const std::string& key, int limit, int window_seconds,
                    const std::string& error_code, const std::string& message) {
  // One statement, so one round trip in its own implicit transaction, whose
  // commit does not wait for the WAL flush: a counter lost in a crash costs
  // a few requests' worth of limit, waiting on every request far more.
  pqxx::nontransaction q(conn);
  const pqxx::result r = q.exec_prepared("rate_limit_hit", key, window_seconds);
  if (r[0][0].as<int>() > limit) {
    ApiError e(429, error_code, message);
    e.retry_after = std::max(1, r[0][1].as<int>());
    throw e;
  }
}

bool rate_limit_reached(pqxx::transaction_base& tx, const std::string& key, int limit, int window_seconds) {
  const pqxx::result r = tx.exec_params(
      "SELECT hits FROM auth.rate_limits WHERE key = $1 AND window_start > now() - make_interval(secs => $2)", key,
      window_seconds);
  return !r.empty() && r[0][0].as<int>() >= limit;
}

void prepare_rate_limiter(PgPool& pg) {
  pg.prepare("rate_limit_hit",
      "WITH hit AS ("
      "  INSERT INTO auth.rate_limits AS l (key, window_start, hits) VALUES ($1, now(), 1) "
      "  ON CONFLICT (key) DO UPDATE SET "
      "    hits = CASE WHEN l.window_start < now() - make_interval(secs => $2) THEN 1 ELSE l.hits + 1 END, "
      "    window_start = CASE WHEN l.window_start < now() - make_interval(secs => $2) THEN now() "
      "                        ELSE l.window_start END "
      "  RETURNING hits, ceil(extract(epoch FROM l.window_start + make_interval(secs => $2) - now()))::int AS wait) "
      "SELECT hits, wait, set_config('synchronous_commit', 'off', true) FROM hit");
}

}  // namespace orbitnest::authd
