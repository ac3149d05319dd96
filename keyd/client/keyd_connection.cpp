#include "keyd/client/keyd_connection.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace orbitnest::keyd {
namespace {

void wait_for(int fd, short events, std::chrono::milliseconds timeout, const char* what) {
  pollfd p{fd, events, 0};
  int rc = 0;
  do {
    rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
  } while (rc < 0 && errno == EINTR);
  if (rc == 0) {
    throw KeydUnavailable(std::string("keyd did not answer in time (") + what + ")");
  }
  if (rc < 0) {
    throw KeydUnavailable(std::string("poll failed: ") + std::strerror(errno));
  }
}

}  // namespace

KeydConnection::KeydConnection(const std::string& socket_path, std::chrono::milliseconds timeout)
    : m_timeout(timeout), m_receive_buffer(kMaxFrameBytes + 1) {
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(addr.sun_path)) {
    throw KeydUnavailable("socket path too long");
  }
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  m_fd.reset(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!m_fd.valid()) {
    throw KeydUnavailable(std::string("socket() failed: ") + std::strerror(errno));
  }
  if (::connect(m_fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    throw KeydUnavailable("cannot connect to keyd at " + socket_path + ": " + std::strerror(errno));
  }
  const Frame hello = call(Op::hello, {encode_u16(kProtocolVersion)});
  FieldReader in(hello);
  const std::uint16_t version = in.u16();
  m_keyd_version = std::string(in.bytes());
  in.expect_end();
  if (version != kProtocolVersion) {
    throw KeydError(Status::unsupported_version, "keyd answered version " + std::to_string(version));
  }
}

Frame KeydConnection::call(Op op, std::vector<std::string> fields, std::vector<Status> accepted) {
  Frame req;
  req.op = static_cast<std::uint16_t>(op);
  req.request_id = m_next_id++;
  req.fields = std::move(fields);
  const std::vector<std::uint8_t> bytes = encode_frame(req);
  wait_for(m_fd.get(), POLLOUT, m_timeout, "send");
  if (::send(m_fd.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(bytes.size())) {
    throw KeydUnavailable(std::string("send to keyd failed: ") + std::strerror(errno));
  }
  std::vector<std::uint8_t>& buf = m_receive_buffer;
  wait_for(m_fd.get(), POLLIN, m_timeout, "receive");
  const ssize_t n = ::recv(m_fd.get(), buf.data(), buf.size(), MSG_TRUNC);
  if (n <= 0) {
    throw KeydUnavailable("keyd closed the connection");
  }
  if (static_cast<std::size_t>(n) > kMaxFrameBytes) {
    throw KeydUnavailable("keyd sent an oversized frame");
  }
  Frame resp;
  try {
    resp = decode_frame(std::span<const std::uint8_t>(buf.data(), static_cast<std::size_t>(n)));
  } catch (const FrameError& e) {
    throw KeydUnavailable(std::string("malformed frame from keyd: ") + e.what());
  }
  if (resp.kind != FrameKind::response || resp.request_id != req.request_id) {
    throw KeydUnavailable("keyd answered out of turn");
  }
  if (resp.status != Status::ok &&
      std::find(accepted.begin(), accepted.end(), resp.status) == accepted.end()) {
    throw KeydError(resp.status, resp.fields.empty() ? std::string() : resp.fields.front());
  }
  return resp;
}

}  // namespace orbitnest::keyd
