#include "keyd/server/socket_server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "systemd/log.h"

namespace orbitnest::keyd {

SocketServer::SocketServer(UniqueFd listener, PeerPolicy policy, const RequestHandler& handler,
                           ConnectionLimits limits,
                           std::function<void(const PeerCredentials&, const std::string&)> on_refused)
    : m_listener(std::move(listener)),
      m_policy(policy),
      m_handler(handler),
      m_limits(limits),
      m_on_refused(std::move(on_refused)) {}

SocketServer::~SocketServer() { stop(); }

void SocketServer::reap_finished() {
  // Called with m_mutex held.
  for (auto it = m_connections.begin(); it != m_connections.end();) {
    if (it->done.load()) {
      it->thread.join();
      it = m_connections.erase(it);
    } else {
      ++it;
    }
  }
}

void SocketServer::accept_one() {
  UniqueFd fd(::accept4(m_listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!fd.valid()) {
    if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
      log::warning("keyd.accept_failed", {{"errno", std::strerror(errno)}});
    }
    return;
  }
  PeerCredentials peer;
  try {
    peer = peer_credentials(fd.get());
  } catch (const std::exception& e) {
    log::warning("keyd.peer_unknown", {{"reason", e.what()}});
    return;
  }
  const PeerRights rights = m_policy.rights(peer);
  if (!rights.any()) {
    // Refused before reading a single byte from it.
    const std::string comm = peer_command(peer.pid);
    log::warning("keyd.peer_refused", {{"uid", static_cast<unsigned long>(peer.uid)},
                                       {"gid", static_cast<unsigned long>(peer.gid)},
                                       {"pid", static_cast<long>(peer.pid)},
                                       {"comm", comm}});
    if (m_on_refused) {
      m_on_refused(peer, comm);
    }
    return;
  }
  const std::lock_guard lock(m_mutex);
  reap_finished();
  if (m_stopping) {
    return;
  }
  // authd's uid is the class that could flood; any other peer allowed in
  // has operator rights.
  const bool operator_class = !rights.authd;
  const int limit = operator_class ? m_limits.operators : m_limits.authd;
  int held = 0;
  for (const Connection& c : m_connections) {
    held += c.operator_class == operator_class ? 1 : 0;
  }
  if (held >= limit) {
    note_full(operator_class, limit);
    return;  // closed unread: the client sees the connection end
  }
  log::debug("keyd.peer_connected", {{"uid", static_cast<unsigned long>(peer.uid)},
                                     {"pid", static_cast<long>(peer.pid)},
                                     {"comm", peer_command(peer.pid)}});
  Connection& conn = m_connections.emplace_back();
  conn.fd = std::move(fd);
  conn.operator_class = operator_class;
  conn.thread = std::thread([this, &conn, peer] { serve(conn, peer); });
}

void SocketServer::note_full(bool operator_class, int limit) {
  // Called with m_mutex held. A peer reconnecting in a loop must not flood
  // the journal either.
  ++m_full_since_log;
  const auto now = std::chrono::steady_clock::now();
  if (now - m_last_full_log < std::chrono::seconds(1)) {
    return;
  }
  log::warning("keyd.too_many_connections", {{"class", operator_class ? "operator" : "authd"},
                                             {"limit", limit},
                                             {"refused", m_full_since_log}});
  m_last_full_log = now;
  m_full_since_log = 0;
}

void SocketServer::serve(Connection& conn, PeerCredentials peer) {
  ConnectionState state;
  state.rights = m_policy.rights(peer);
  state.peer_command = peer_command(peer.pid);
  state.peer = std::move(peer);
  std::vector<std::uint8_t> buf(kMaxFrameBytes + 1);
  for (;;) {
    // MSG_TRUNC makes recv report the real size of an oversized message.
    const ssize_t n = ::recv(conn.fd.get(), buf.data(), buf.size(), MSG_TRUNC);
    if (n <= 0) {
      break;
    }
    const auto size = static_cast<std::size_t>(n);
    HandlerResult result;
    if (size > kMaxFrameBytes) {
      log::warning("keyd.oversize_frame", {{"bytes", static_cast<unsigned long>(size)}});
      Frame resp;
      resp.kind = FrameKind::response;
      resp.status = Status::bad_frame;
      resp.fields = {"frame larger than " + std::to_string(kMaxFrameBytes) + " bytes"};
      result = HandlerResult{encode_frame(resp), true};
    } else {
      result = m_handler.handle(std::span<const std::uint8_t>(buf.data(), size), state);
    }
    if (::send(conn.fd.get(), result.response.data(), result.response.size(), MSG_NOSIGNAL) < 0) {
      break;
    }
    if (result.close_connection) {
      break;
    }
  }
  ::shutdown(conn.fd.get(), SHUT_RDWR);
  conn.done.store(true);
}

void SocketServer::stop() {
  std::list<Connection> all;
  {
    const std::lock_guard lock(m_mutex);
    m_stopping = true;
    for (Connection& c : m_connections) {
      ::shutdown(c.fd.get(), SHUT_RDWR);  // wakes the blocked recv
    }
    all.splice(all.end(), m_connections);
  }
  for (Connection& c : all) {
    if (c.thread.joinable()) {
      c.thread.join();
    }
  }
}

UniqueFd bind_seqpacket_socket(const std::string& path, unsigned mode) {
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    throw std::runtime_error("socket path too long: " + path);
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      throw std::runtime_error("refusing to replace " + path + ": it exists and is not a socket");
    }
    ::unlink(path.c_str());
  }
  UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    throw std::runtime_error(std::string("socket() failed: ") + std::strerror(errno));
  }
  // Create it with no access at all, then open it up: no window in which
  // the socket exists with looser permissions than configured.
  const mode_t old = ::umask(0777);
  const int rc = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  ::umask(old);
  if (rc != 0) {
    throw std::runtime_error("cannot bind " + path + ": " + std::strerror(errno));
  }
  if (::chmod(path.c_str(), static_cast<mode_t>(mode)) != 0) {
    throw std::runtime_error("cannot chmod " + path + ": " + std::strerror(errno));
  }
  if (::listen(fd.get(), 64) != 0) {
    throw std::runtime_error("cannot listen on " + path + ": " + std::strerror(errno));
  }
  return fd;
}

}  // namespace orbitnest::keyd
