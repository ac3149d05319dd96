#pragma once
// One connection to keyd, handshaken (HELLO with the protocol version).
// Not thread-safe: callers that share one serialise on it, or keep several.
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "keyd/client/keyd_transport.h"
#include "keyd/protocol/frame.h"
#include "systemd/unique_fd.h"

namespace orbitnest::keyd {

// keyd answered with a status other than ok, or the link broke.
class KeydError final : public std::runtime_error {
 public:
  KeydError(Status status, const std::string& message)
      : std::runtime_error(std::string(status_name(status)) + ": " + message), m_status(status) {}
  Status status() const { return m_status; }

 private:
  Status m_status;
};

// The socket itself failed (keyd not there, closed, timed out).
class KeydUnavailable final : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class KeydConnection final : public KeydTransport {
 public:
  // Connects and handshakes; throws KeydUnavailable or KeydError.
  KeydConnection(const std::string& socket_path, std::chrono::milliseconds timeout);

  // Sends one request and waits for its response. Returns the response
  // frame when its status is ok or one of `accepted`; throws otherwise.
  Frame call(Op op, std::vector<std::string> fields, std::vector<Status> accepted = {}) override;

  const std::string& keyd_version() const { return m_keyd_version; }

 private:
  UniqueFd m_fd;
  std::chrono::milliseconds m_timeout;
  std::uint32_t m_next_id = 1;
  std::string m_keyd_version;
  // One receive buffer per connection: a fresh 64 KiB per call was a
  // measurable share of authd's time per refresh (zeroing and malloc).
  std::vector<std::uint8_t> m_receive_buffer;
};

}  // namespace orbitnest::keyd
