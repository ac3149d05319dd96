#pragma once
// The privileged side's whole surface: one request frame in, one response
// frame out, dispatched through the fixed operation table. Pure logic, no
// socket I/O, so tests and the fuzzer drive it directly.
#include <cstdint>
#include <span>
#include <vector>

#include "keyd/protocol/frame.h"
#include "keyd/server/keyd_state.h"
#include "keyd/server/peer_policy.h"

namespace orbitnest::keyd {

struct ConnectionState {
  PeerRights rights;
  bool hello_done = false;
  PeerCredentials peer;
  std::string peer_command;
};

struct HandlerResult {
  std::vector<std::uint8_t> response;
  bool close_connection = false;
};

class RequestHandler final {
 public:
  explicit RequestHandler(const KeydState& state) : m_state(state) {}
  HandlerResult handle(std::span<const std::uint8_t> bytes, ConnectionState& conn) const;

 private:
  HandlerResult dispatch(const Frame& req, const OpInfo& op, ConnectionState& conn) const;
  const KeydState& m_state;
};

}  // namespace orbitnest::keyd
