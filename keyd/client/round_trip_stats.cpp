#include "keyd/client/round_trip_stats.h"

namespace orbitnest::keyd {

void RoundTripStats::record(Op op, std::chrono::steady_clock::duration took, bool ok) {
  const auto slot = static_cast<std::size_t>(op);
  if (slot >= kSlots) {
    return;
  }
  m_calls[slot].fetch_add(1, std::memory_order_relaxed);
  if (!ok) {
    m_failures[slot].fetch_add(1, std::memory_order_relaxed);
  }
  m_nanos[slot].fetch_add(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(took).count()),
                          std::memory_order_relaxed);
}

std::vector<RoundTripStats::Reading> RoundTripStats::read() const {
  std::vector<Reading> out;
  for (std::size_t slot = 0; slot < kSlots; ++slot) {
    const std::uint64_t calls = m_calls[slot].load(std::memory_order_relaxed);
    if (calls != 0) {
      out.push_back(Reading{static_cast<Op>(slot), calls, m_failures[slot].load(std::memory_order_relaxed),
                            static_cast<double>(m_nanos[slot].load(std::memory_order_relaxed)) / 1e9});
    }
  }
  return out;
}

}  // namespace orbitnest::keyd
