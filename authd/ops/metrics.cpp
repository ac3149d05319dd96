#include "authd/ops/metrics.h"

#include <prometheus/text_serializer.h>

#include <boost/json.hpp>

#include <sstream>

#include "keyd/protocol/protocol.h"
#include "systemd/log.h"

namespace orbitnest::authd {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// Request latency buckets, seconds: from a cached read to an Argon2id
// sign-in waiting its turn.
const prometheus::Histogram::BucketBoundaries kLatencyBuckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                              0.5,   1,    2.5,   5,    10};

ClientMetric sample(double value, std::vector<ClientMetric::Label> labels, MetricType type) {
  ClientMetric m;
  m.label = std::move(labels);
  if (type == MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  return m;
}

MetricFamily family(std::string name, std::string help, MetricType type) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

void add_pool(std::vector<MetricFamily>& out, const char* pool, const BlockingPool::Stats& st) {
  const std::vector<ClientMetric::Label> label{{"pool", pool}};
  out[0].metric.push_back(sample(static_cast<double>(st.threads), label, MetricType::Gauge));
  out[1].metric.push_back(sample(static_cast<double>(st.busy), label, MetricType::Gauge));
  out[2].metric.push_back(sample(static_cast<double>(st.queued), label, MetricType::Gauge));
  out[3].metric.push_back(sample(static_cast<double>(st.refused), label, MetricType::Counter));
  out[4].metric.push_back(sample(static_cast<double>(st.expired), label, MetricType::Counter));
}

std::int64_t number(const boost::json::value& v) { return v.is_int64() ? v.as_int64() : static_cast<std::int64_t>(v.to_number<double>()); }

}  // namespace

Metrics::Metrics(Sources sources)
    : m_sources(sources),
      m_registry(std::make_shared<prometheus::Registry>()),
      m_requests(prometheus::BuildCounter()
                     .Name("orbitnest_http_requests_total")
                     .Help("HTTP requests answered, by listener, route name and status")
                     .Register(*m_registry)),
      m_latency(prometheus::BuildHistogram()
                    .Name("orbitnest_http_request_duration_seconds")
                    .Help("Time from a request read whole to its answer, by listener and route name")
                    .Register(*m_registry)),
      m_rate_limited(prometheus::BuildCounter()
                         .Name("orbitnest_rate_limit_refusals_total")
                         .Help("Requests refused with 429, by the route's rate class and the error code")
                         .Register(*m_registry)),
      m_source_errors(prometheus::BuildCounter()
                          .Name("orbitnest_metrics_source_errors_total")
                          .Help("Scrapes that could not read a source (keyd, postgres)")
                          .Register(*m_registry)) {}

void Metrics::observe(const RequestObservation& r) {
  const std::string route = r.route.empty() ? "unmatched" : std::string(r.route);
  m_requests.Add({{"listener", std::string(r.listener)}, {"route", route}, {"status", std::to_string(r.status)}})
      .Increment();
  m_latency.Add({{"listener", std::string(r.listener)}, {"route", route}}, kLatencyBuckets).Observe(r.seconds);
}

void Metrics::rate_limited(std::string_view rate_class, std::string_view code) {
  m_rate_limited.Add({{"class", std::string(rate_class)}, {"code", std::string(code)}}).Increment();
}

std::string Metrics::render() {
  std::vector<MetricFamily> families;

  // The bounded pools: size, work in hand, waiting, and what they refused.
  std::vector<MetricFamily> pools{
      family("orbitnest_pool_threads", "Threads of a blocking pool", MetricType::Gauge),
      family("orbitnest_pool_busy", "Threads of a blocking pool running a job now", MetricType::Gauge),
      family("orbitnest_pool_queued", "Jobs waiting for a thread", MetricType::Gauge),
      family("orbitnest_pool_refusals_total", "Jobs refused at the door (queue full or the wait too long): 503",
             MetricType::Counter),
      family("orbitnest_pool_expired_total", "Jobs that waited past their deadline: 503", MetricType::Counter)};
  add_pool(pools, "workers", m_sources.workers.stats());
  add_pool(pools, "hashing", m_sources.hashing.stats());
  families.insert(families.end(), pools.begin(), pools.end());

  const PgPool::Stats pg = m_sources.pg.stats();
  families.push_back(family("orbitnest_postgres_pool_connections", "Size of the Postgres pool", MetricType::Gauge));
  families.back().metric.push_back(sample(pg.size, {}, MetricType::Gauge));
  families.push_back(family("orbitnest_postgres_pool_in_use", "Postgres connections leased now", MetricType::Gauge));
  families.back().metric.push_back(sample(pg.in_use, {}, MetricType::Gauge));
  families.push_back(family("orbitnest_postgres_pool_leases_total", "Postgres connections leased", MetricType::Counter));
  families.back().metric.push_back(sample(static_cast<double>(pg.leases), {}, MetricType::Counter));
  families.push_back(family("orbitnest_postgres_pool_wait_seconds_total",
                            "Time spent waiting for a Postgres connection", MetricType::Counter));
  families.back().metric.push_back(sample(pg.wait_seconds, {}, MetricType::Counter));
  families.push_back(family("orbitnest_postgres_pool_exhausted_total",
                            "Leases that waited the whole limit and failed (503)", MetricType::Counter));
  families.back().metric.push_back(sample(static_cast<double>(pg.exhausted), {}, MetricType::Counter));

  // Round trips to keyd, as authd saw them.
  MetricFamily trips = family("orbitnest_keyd_round_trips_total", "Calls to keyd by op", MetricType::Counter);
  MetricFamily trip_errors =
      family("orbitnest_keyd_round_trip_errors_total", "Calls to keyd that failed, by op", MetricType::Counter);
  MetricFamily trip_seconds =
      family("orbitnest_keyd_round_trip_seconds_total", "Time spent in calls to keyd, by op", MetricType::Counter);
  for (const keyd::RoundTripStats::Reading& r : m_sources.keyd.pool().round_trips().read()) {
    const std::vector<ClientMetric::Label> label{{"op", std::string(keyd::op_name(r.op))}};
    trips.metric.push_back(sample(static_cast<double>(r.calls), label, MetricType::Counter));
    trip_errors.metric.push_back(sample(static_cast<double>(r.failures), label, MetricType::Counter));
    trip_seconds.metric.push_back(sample(r.seconds, label, MetricType::Counter));
  }
  families.push_back(std::move(trips));
  families.push_back(std::move(trip_errors));
  families.push_back(std::move(trip_seconds));

  // keyd's own counters (it has no network: it answers op stats).
  try {
    const boost::json::object stats = boost::json::parse(m_sources.keyd.client().stats()).as_object();
    const double now = static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(
                                               std::chrono::system_clock::now().time_since_epoch())
                                               .count());
    MetricFamily signatures = family("orbitnest_keyd_signatures_total",
                                     "Signatures by keyring and key since keyd started", MetricType::Counter);
    MetricFamily age = family("orbitnest_keyd_key_age_seconds",
                              "Seconds since the keyring's current key became current", MetricType::Gauge);
    MetricFamily next = family("orbitnest_keyd_next_rotation_seconds",
                               "Seconds until the scheduled rotation of the keyring (negative: overdue)",
                               MetricType::Gauge);
    MetricFamily keys = family("orbitnest_keyd_keys", "Keys by keyring and state", MetricType::Gauge);
    std::map<std::pair<std::string, std::string>, int> by_state;
    for (const boost::json::value& v : stats.at("keys").as_array()) {
      const boost::json::object& k = v.as_object();
      const std::string ring(k.at("keyring").as_string());
      const std::string kid(k.at("kid").as_string());
      const std::string state(k.at("state").as_string());
      ++by_state[{ring, state}];
      signatures.metric.push_back(sample(static_cast<double>(number(k.at("signatures"))),
                                         {{"keyring", ring}, {"kid", kid}}, MetricType::Counter));
      if (state == "current") {
        age.metric.push_back(sample(now - static_cast<double>(number(k.at("promoted"))), {{"keyring", ring}},
                                    MetricType::Gauge));
        if (const std::int64_t at = number(k.at("rotates_at")); at > 0) {
          next.metric.push_back(sample(static_cast<double>(at) - now, {{"keyring", ring}}, MetricType::Gauge));
        }
      }
    }
    for (const auto& [key, count] : by_state) {
      keys.metric.push_back(sample(count, {{"keyring", key.first}, {"state", key.second}}, MetricType::Gauge));
    }
    MetricFamily ops = family("orbitnest_keyd_ops_total", "Ops keyd served, by op (all its peers)", MetricType::Counter);
    MetricFamily failures =
        family("orbitnest_keyd_op_failures_total", "Ops keyd answered with an error, by op", MetricType::Counter);
    for (const boost::json::value& v : stats.at("ops").as_array()) {
      const boost::json::object& o = v.as_object();
      const std::vector<ClientMetric::Label> label{{"op", std::string(o.at("op").as_string())}};
      ops.metric.push_back(sample(static_cast<double>(number(o.at("calls"))), label, MetricType::Counter));
      failures.metric.push_back(sample(static_cast<double>(number(o.at("failures"))), label, MetricType::Counter));
    }
    for (MetricFamily* f : {&signatures, &age, &next, &keys, &ops, &failures}) {
      families.push_back(std::move(*f));
    }
  } catch (const std::exception& e) {
    m_source_errors.Add({{"source", "keyd"}}).Increment();
    log::warning("authd.metrics_source_failed", {{"source", "keyd"}, {"reason", e.what()}});
  }

  // The outbox: what waits to be sent, and for how long.
  try {
    PgPool::Lease conn = m_sources.pg.lease();
    pqxx::nontransaction q(*conn);
    MetricFamily depth = family("orbitnest_outbox_depth", "Messages waiting to be sent, by channel", MetricType::Gauge);
    MetricFamily oldest = family("orbitnest_outbox_oldest_seconds",
                                 "Age of the oldest message waiting to be sent, by channel", MetricType::Gauge);
    const pqxx::result r = q.exec(
        "SELECT c.channel, count(o.id), coalesce(extract(epoch FROM now() - min(o.created_at)), 0)::float8 "
        "FROM (VALUES ('email'), ('sms')) AS c(channel) LEFT JOIN auth.outbox o "
        "ON o.channel = c.channel AND o.sent_at IS NULL GROUP BY c.channel ORDER BY c.channel");
    for (const pqxx::row& row : r) {
      const std::vector<ClientMetric::Label> label{{"channel", row[0].as<std::string>()}};
      depth.metric.push_back(sample(row[1].as<double>(), label, MetricType::Gauge));
      oldest.metric.push_back(sample(row[2].as<double>(), label, MetricType::Gauge));
    }
    families.push_back(std::move(depth));
    families.push_back(std::move(oldest));
  } catch (const std::exception& e) {
    m_source_errors.Add({{"source", "postgres"}}).Increment();
    log::warning("authd.metrics_source_failed", {{"source", "postgres"}, {"reason", e.what()}});
  }

  std::vector<MetricFamily> counted = m_registry->Collect();
  families.insert(families.begin(), counted.begin(), counted.end());
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

}  // namespace orbitnest::authd
