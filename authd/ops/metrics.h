#pragma once
// authd's metrics in the Prometheus text exposition format (0.0.4),
// served on the operations listener (metrics.listen). Counted as they
// happen: requests by listener, route and status, their latency, rate-limit
// refusals. Read when scraped: the worker and hashing pools, the Postgres
// pool, round trips to keyd, keyd's own counters (keyd op stats: signatures
// by keyring and key, key age, time to the next rotation, its ops), the
// outbox by channel. prometheus-cpp (Debian's) keeps the counters and
// writes the format; nothing here formats it by hand.
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>
#include <string_view>

#include "authd/blocking_pool.h"
#include "authd/db/pg_pool.h"
#include "authd/http/http_server.h"
#include "authd/keyd/keyd_link.h"

namespace orbitnest::authd {

class Metrics final {
 public:
  // What is read at scrape time.
  struct Sources {
    BlockingPool& workers;
    BlockingPool& hashing;
    PgPool& pg;
    KeydLink& keyd;
  };
  explicit Metrics(Sources sources);

  void observe(const RequestObservation& request);
  // A 429 answered on a route of `rate_class` with `code`.
  void rate_limited(std::string_view rate_class, std::string_view code);

  // Everything, in the text format. Asks keyd and Postgres (bounded by
  // their timeouts); what cannot be read is left out and counted in
  // orbitnest_metrics_source_errors_total.
  std::string render();

 private:
  Sources m_sources;
  std::shared_ptr<prometheus::Registry> m_registry;
  prometheus::Family<prometheus::Counter>& m_requests;
  prometheus::Family<prometheus::Histogram>& m_latency;
  prometheus::Family<prometheus::Counter>& m_rate_limited;
  prometheus::Family<prometheus::Counter>& m_source_errors;
};

}  // namespace orbitnest::authd
