#pragma once
// Round trips to keyd by op — how many, how many failed, how long they
// took in all — for authd's metrics. Lock-free: one slot per op number.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <vector>

#include "keyd/protocol/protocol.h"

namespace orbitnest::keyd {

class RoundTripStats final {
 public:
  struct Reading {
    Op op;
    std::uint64_t calls = 0;
    std::uint64_t failures = 0;
    double seconds = 0;
  };
  void record(Op op, std::chrono::steady_clock::duration took, bool ok);
  // The ops called at least once.
  std::vector<Reading> read() const;

 private:
  static constexpr std::size_t kSlots = 128;
  std::array<std::atomic<std::uint64_t>, kSlots> m_calls{};
  std::array<std::atomic<std::uint64_t>, kSlots> m_failures{};
  std::array<std::atomic<std::uint64_t>, kSlots> m_nanos{};
};

}  // namespace orbitnest::keyd
