#include "keyd/server/op_counters.h"

namespace orbitnest::keyd {

void OpCounters::record(const OpRow& row, bool ok) {
  const std::size_t index = static_cast<std::size_t>(&row - op_table().data());
  if (index >= kRows) {
    return;
  }
  m_calls[index].fetch_add(1, std::memory_order_relaxed);
  if (!ok) {
    m_failures[index].fetch_add(1, std::memory_order_relaxed);
  }
}

std::vector<OpCounters::Reading> OpCounters::read() const {
  std::vector<Reading> out;
  const std::span<const OpRow> rows = op_table();
  for (std::size_t i = 0; i < rows.size() && i < kRows; ++i) {
    out.push_back(Reading{std::string(rows[i].name), m_calls[i].load(std::memory_order_relaxed),
                          m_failures[i].load(std::memory_order_relaxed)});
  }
  return out;
}

OpCounters& op_counters() {
  static OpCounters counters;
  return counters;
}

}  // namespace orbitnest::keyd
