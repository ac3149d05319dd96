#pragma once
// keyd's whole policy in one table (OpenSSH's mon_table): one row per
// operation says who may call it, what must hold first and whether its
// failures are audited; the dispatcher (request_handler.cpp) enforces the
// row and nothing else decides. A reviewer reads op_table.cpp to know what
// each peer may ask.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "keyd/audit/audit_log.h"
#include "keyd/protocol/messages.h"
#include "keyd/server/keyd_state.h"
#include "keyd/server/peer_policy.h"

namespace orbitnest::keyd {

struct ConnectionState {
  PeerRights rights;
  bool hello_done = false;
  PeerCredentials peer;
  std::string peer_command;
};

// Peer classes as a set (bit per PeerClass).
enum class Peers : std::uint8_t {
  authd = 1U << static_cast<unsigned>(PeerClass::authd),
  operators = 1U << static_cast<unsigned>(PeerClass::operator_),
  both = authd | operators,
};

namespace op_flag {
inline constexpr std::uint8_t needs_hello = 1;     // refused (and closed) before hello
inline constexpr std::uint8_t needs_ready = 2;     // not_ready until the HSM is open
inline constexpr std::uint8_t administrative = 4;  // changes keys or keyrings: writes its own audit
                                                   // record and fails closed without it
inline constexpr std::uint8_t audited = 8;         // every failure leaves an op_failed record
}  // namespace op_flag

// What a handler answers when it does not throw.
struct OpAnswer {
  std::vector<std::string> fields;
  Status status = Status::ok;
};

// A refusal at the protocol level (hello with the wrong version).
class ProtocolRefusal final : public std::runtime_error {
 public:
  ProtocolRefusal(Status status, const std::string& message, bool close)
      : std::runtime_error(message), m_status(status), m_close(close) {}
  Status status() const { return m_status; }
  bool close() const { return m_close; }

 private:
  Status m_status;
  bool m_close;
};

// One request as a handler sees it.
struct OpCall {
  const std::vector<std::string>& fields;
  ConnectionState& conn;
  const KeydState::Snapshot& keyd;  // services are set for needs_ready ops
  const AuditEvent& requested_by;   // who asked, for the handler's own records

  template <class Request>
  Request request() const {
    return decode_fields<Request>(fields);
  }
};

template <class Answer>
OpAnswer answer(const Answer& a, Status status = Status::ok) {
  return OpAnswer{encode_fields(a), status};
}

using OpHandler = OpAnswer (*)(const OpCall& call);

struct OpRow {
  Op op;
  std::string_view name;
  Peers peers;
  std::uint8_t flags;
  OpHandler handler;

  bool has(std::uint8_t flag) const { return (flags & flag) != 0; }
  bool permits(const PeerRights& rights) const;
};

// Every row, in protocol order; nullptr for a number not in the table.
std::span<const OpRow> op_table();
const OpRow* find_op_row(std::uint16_t raw);

}  // namespace orbitnest::keyd
