#pragma once
// How often each key signed: a total for list_keys, and a summary the
// audit log gets periodically instead of one record per signature.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "keyd/audit/audit_log.h"

namespace orbitnest::keyd {

class SignCounter final {
 public:
  void record(const std::string& kid, std::int64_t now);
  // Signatures by `kid` since keyd started.
  std::uint64_t total(const std::string& kid);
  // Writes one audit record per key that signed since the last call.
  void flush(AuditLog& audit);

 private:
  struct Counts {
    std::uint64_t total = 0;
    std::uint64_t since_summary = 0;
    std::int64_t first = 0;
    std::int64_t last = 0;
  };

  std::mutex m_mutex;
  std::map<std::string, Counts> m_counts;  // kid -> counts
};

}  // namespace orbitnest::keyd
