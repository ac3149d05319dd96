#pragma once
// The privileged side's whole surface: one request frame in, one response
// frame out, dispatched through the op table (op_table.h), whose row
// decides who may call and what must hold. Pure logic, no socket I/O, so
// tests and the fuzzer drive it directly.
#include <cstdint>
#include <span>
#include <vector>

#include "keyd/protocol/frame.h"
#include "keyd/server/keyd_state.h"
#include "keyd/server/op_table.h"

namespace orbitnest::keyd {

struct HandlerResult {
  std::vector<std::uint8_t> response;
  bool close_connection = false;
};

class RequestHandler final {
 public:
  explicit RequestHandler(const KeydState& state) : m_state(state) {}
  HandlerResult handle(std::span<const std::uint8_t> bytes, ConnectionState& conn) const;

 private:
  HandlerResult dispatch(const Frame& req, const OpRow& row, ConnectionState& conn) const;
  const KeydState& m_state;
};

}  // namespace orbitnest::keyd
