#pragma once
// The service manager's side of sd_notify: a datagram socket a test hands
// to a daemon as NOTIFY_SOCKET, to see READY=1, STOPPING=1, WATCHDOG=1.
#include <sys/socket.h>
#include <sys/un.h>
#include <poll.h>

#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>

#include "systemd/unique_fd.h"

namespace orbitnest::test {

class NotifySocket final {
 public:
  explicit NotifySocket(std::string path) : m_path(std::move(path)) {
    m_fd.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, m_path.c_str(), sizeof(addr.sun_path) - 1);
    if (::bind(m_fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      throw std::runtime_error("cannot bind notify socket " + m_path);
    }
  }
  const std::string& path() const { return m_path; }

  // Waits for a message containing `needle`; returns every message read
  // meanwhile concatenated, or "" on timeout.
  std::string wait_for(const std::string& needle, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string seen;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        return "";
      }
      pollfd p{m_fd.get(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
        return "";
      }
      char buf[4096];
      const ssize_t n = ::recv(m_fd.get(), buf, sizeof(buf), 0);
      if (n > 0) {
        const std::string msg(buf, static_cast<std::size_t>(n));
        seen += msg + "\n";
        if (msg.find(needle) != std::string::npos) {
          return seen;
        }
      }
    }
  }

 private:
  std::string m_path;
  UniqueFd m_fd;
};

}  // namespace orbitnest::test
