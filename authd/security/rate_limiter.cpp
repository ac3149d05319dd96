#include "authd/security/rate_limiter.h"

#include <algorithm>
#include <cmath>

#include "authd/api/api_error.h"

namespace orbitnest::authd {
namespace {

// Array literals for unnest(): keys are ours ("ip:class:ref:address"),
// quoted anyway.
std::string text_array(const std::vector<std::pair<std::string, int>>& counts) {
  std::string out = "{";
  for (const auto& [key, n] : counts) {
    out += out.size() > 1 ? ",\"" : "\"";
    for (const char ch : key) {
      if (ch == '"' || ch == '\\') {
        out += '\\';
      }
      out += ch;
    }
    out += '"';
  }
  return out + "}";
}

std::string int_array(const std::vector<std::pair<std::string, int>>& counts) {
  std::string out = "{";
  for (const auto& [key, n] : counts) {
    if (out.size() > 1) {
      out += ',';
    }
    out += std::to_string(n);  // appended, not "," + ...: GCC 12's -Wrestrict false positive at -O3
  }
  return out + "}";
}

}  // namespace

std::vector<CounterTotal> add_hits(pqxx::connection& conn, std::vector<std::pair<std::string, int>> counts,
                                   int window_seconds) {
  // Sorted, so that nodes adding at once lock rows in the same order.
  std::sort(counts.begin(), counts.end());
  // One statement, so one round trip in its own implicit transaction, whose
  // commit does not wait for the WAL flush: a counter lost in a crash costs
  // a few requests' worth of limit, waiting on every request far more.
  pqxx::nontransaction q(conn);
  const pqxx::result r = q.exec_prepared("rate_limit_add", text_array(counts), int_array(counts), window_seconds);
  std::vector<CounterTotal> totals;
  for (const pqxx::row& row : r) {
    totals.push_back(CounterTotal{row[0].as<std::string>(), row[1].as<int>(), row[2].as<double>()});
  }
  return totals;
}

void rate_limit_hit(pqxx::connection& conn, const std::string& key, int limit, int window_seconds,
                    const std::string& error_code, const std::string& message) {
  const std::vector<CounterTotal> totals = add_hits(conn, {{key, 1}}, window_seconds);
  if (totals.at(0).hits > limit) {
    ApiError e(429, error_code, message);
    e.retry_after = std::max(1, static_cast<int>(std::ceil(totals[0].seconds_left)));
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
  // Fixed windows: a window that is over starts again with these hits.
  pg.prepare("rate_limit_add",
      "WITH hit AS ("
      "  INSERT INTO auth.rate_limits AS l (key, window_start, hits) "
      "  SELECT k, now(), n FROM unnest($1::text[], $2::int[]) AS u(k, n) ORDER BY k "
      "  ON CONFLICT (key) DO UPDATE SET "
      "    hits = CASE WHEN l.window_start < now() - make_interval(secs => $3) THEN EXCLUDED.hits "
      "                ELSE l.hits + EXCLUDED.hits END, "
      "    window_start = CASE WHEN l.window_start < now() - make_interval(secs => $3) THEN now() "
      "                        ELSE l.window_start END "
      "  RETURNING key, hits, extract(epoch FROM l.window_start + make_interval(secs => $3) - now())::float8 AS left_s) "
      "SELECT key, hits, left_s, set_config('synchronous_commit', 'off', true) FROM hit");
}

void clear_counters(pqxx::transaction_base& tx, const std::string& key) {
  tx.exec_params("DELETE FROM auth.rate_limits WHERE key = $1 OR left(key, length($1) + 1) = $1 || '@'", key);
}

}  // namespace orbitnest::authd
