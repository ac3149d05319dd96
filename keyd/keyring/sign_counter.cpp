#include "keyd/keyring/sign_counter.h"

#include <boost/json.hpp>

namespace orbitnest::keyd {

void SignCounter::record(const std::string& kid, std::int64_t now) {
  const std::lock_guard lock(m_mutex);
  Counts& c = m_counts[kid];
  ++c.total;
  if (c.since_summary++ == 0) {
    c.first = now;
  }
  c.last = now;
}

std::uint64_t SignCounter::total(const std::string& kid) {
  const std::lock_guard lock(m_mutex);
  const auto it = m_counts.find(kid);
  return it == m_counts.end() ? 0 : it->second.total;
}

void SignCounter::flush(AuditLog& audit) {
  std::map<std::string, Counts> pending;
  {
    // Taken out first: the audit append does I/O and must not hold up signing.
    const std::lock_guard lock(m_mutex);
    for (auto& [kid, c] : m_counts) {
      if (c.since_summary > 0) {
        pending[kid] = c;
        c.since_summary = 0;
      }
    }
  }
  for (const auto& [kid, c] : pending) {
    audit.append(AuditEvent{"signatures", "sign_jwt", "", kid, "ok", std::nullopt, "",
                            boost::json::object{{"count", c.since_summary}, {"first", c.first}, {"last", c.last}}});
  }
}

}  // namespace orbitnest::keyd
