#pragma once
// How often each op ran and failed since keyd started, for authd's
// metrics (keyd op stats). One pair of atomics per row of the op table.
#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "keyd/server/op_table.h"

namespace orbitnest::keyd {

class OpCounters final {
 public:
  struct Reading {
    std::string name;
    std::uint64_t calls = 0;
    std::uint64_t failures = 0;
  };
  void record(const OpRow& row, bool ok);
  std::vector<Reading> read() const;

 private:
  static constexpr std::size_t kRows = 32;
  std::array<std::atomic<std::uint64_t>, kRows> m_calls{};
  std::array<std::atomic<std::uint64_t>, kRows> m_failures{};
};

OpCounters& op_counters();

}  // namespace orbitnest::keyd
