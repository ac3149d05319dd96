#pragma once
// A raw client connection for tests that misbehave on purpose: plain TCP
// from a chosen loopback source address (127.0.0.2 is as good as another
// host), optionally TLS on top (OpenSSL, certificate checked against a CA
// file), bytes sent exactly as given, a timeout on every read.
#include <openssl/ssl.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "systemd/unique_fd.h"

namespace orbitnest::test {

// A connected TCP socket to 127.0.0.1:port from `source` (any port).
// Invalid fd when the connection failed.
UniqueFd tcp_connect(int port, const std::string& source = "127.0.0.1");

// True when the peer closed (or reset) `fd` within `timeout`; data the
// peer sent before closing is read and dropped.
bool closed_by_peer(int fd, std::chrono::milliseconds timeout);

class TlsConnection final {
 public:
  // Connects and completes the handshake; ok() says whether it did.
  TlsConnection(int port, const std::string& ca_file, const std::string& source = "127.0.0.1");
  ~TlsConnection();
  TlsConnection(const TlsConnection&) = delete;
  TlsConnection& operator=(const TlsConnection&) = delete;

  bool ok() const { return m_ssl != nullptr; }
  // False once the peer closed or an error occurred.
  bool send(const std::string& bytes);
  // One HTTP/1.1 response (headers and a Content-Length body), or nullopt
  // when the connection closed or `timeout` passed first.
  std::optional<std::string> read_response(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // True when the peer closed the connection within `timeout`.
  bool wait_closed(std::chrono::milliseconds timeout);

 private:
  // Bytes read, 0 on close, -1 on timeout.
  int read_some(char* buf, int size, std::chrono::milliseconds timeout);

  UniqueFd m_fd;
  SSL_CTX* m_ctx = nullptr;
  SSL* m_ssl = nullptr;
  std::string m_pending;
};

}  // namespace orbitnest::test
