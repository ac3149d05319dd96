#include "tests/support/tls_connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>

namespace orbitnest::test {
namespace {

bool wait_readable(int fd, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(timeout.count())) > 0;
}

}  // namespace

UniqueFd tcp_connect(int port, const std::string& source) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in local{};
  local.sin_family = AF_INET;
  ::inet_pton(AF_INET, source.c_str(), &local.sin_addr);
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(static_cast<std::uint16_t>(port));
  remote.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (!fd.valid() || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0 ||
      ::connect(fd.get(), reinterpret_cast<sockaddr*>(&remote), sizeof(remote)) != 0) {
    return UniqueFd();
  }
  const int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

bool closed_by_peer(int fd, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() < 0 || !wait_readable(fd, left)) {
      return false;
    }
    const ssize_t n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      return true;
    }
  }
}

TlsConnection::TlsConnection(int port, const std::string& ca_file, const std::string& source)
    : m_fd(tcp_connect(port, source)) {
  // A peer that closed makes a write fail, not kill the test.
  ::signal(SIGPIPE, SIG_IGN);
  if (!m_fd.valid()) {
    return;
  }
  m_ctx = ::SSL_CTX_new(::TLS_client_method());
  ::SSL_CTX_load_verify_locations(m_ctx, ca_file.c_str(), nullptr);
  ::SSL_CTX_set_verify(m_ctx, SSL_VERIFY_PEER, nullptr);
  SSL* ssl = ::SSL_new(m_ctx);
  ::SSL_set_fd(ssl, m_fd.get());
  ::SSL_set_tlsext_host_name(ssl, "localhost");
  ::SSL_set1_host(ssl, "localhost");
  if (::SSL_connect(ssl) == 1) {
    m_ssl = ssl;
  } else {
    ::SSL_free(ssl);
  }
}

TlsConnection::~TlsConnection() {
  if (m_ssl != nullptr) {
    ::SSL_free(m_ssl);
  }
  if (m_ctx != nullptr) {
    ::SSL_CTX_free(m_ctx);
  }
}

bool TlsConnection::send(const std::string& bytes) {
  return m_ssl != nullptr && (bytes.empty() || ::SSL_write(m_ssl, bytes.data(), static_cast<int>(bytes.size())) > 0);
}

int TlsConnection::read_some(char* buf, int size, std::chrono::milliseconds timeout) {
  if (m_ssl == nullptr) {
    return 0;
  }
  if (::SSL_pending(m_ssl) == 0 && !wait_readable(m_fd.get(), timeout)) {
    return -1;
  }
  const int n = ::SSL_read(m_ssl, buf, size);
  return n > 0 ? n : 0;
}

std::optional<std::string> TlsConnection::read_response(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[16384];
  for (;;) {
    const std::size_t head_end = m_pending.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      std::size_t length = 0;
      const std::size_t cl = m_pending.find("Content-Length: ");
      if (cl != std::string::npos && cl < head_end) {
        length = std::strtoul(m_pending.c_str() + cl + 16, nullptr, 10);
      }
      if (m_pending.size() >= head_end + 4 + length) {
        std::string response = m_pending.substr(0, head_end + 4 + length);
        m_pending.erase(0, response.size());
        return response;
      }
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return std::nullopt;
    }
    const int n = read_some(buf, sizeof(buf), left);
    if (n <= 0) {
      return std::nullopt;
    }
    m_pending.append(buf, static_cast<std::size_t>(n));
  }
}

bool TlsConnection::wait_closed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return false;
    }
    const int n = read_some(buf, sizeof(buf), left);
    if (n == 0) {
      return true;
    }
  }
}

}  // namespace orbitnest::test
