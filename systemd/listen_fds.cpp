#include "systemd/listen_fds.h"

#include <sys/socket.h>
#include <systemd/sd-daemon.h>

#include <stdexcept>

namespace orbitnest::sd {
namespace {

std::optional<UniqueFd> take_one(int type, bool unix_family) {
  // unset_environment=1: children we may spawn must not think the fds are theirs.
  const int n = ::sd_listen_fds(1);
  if (n < 0) {
    throw std::runtime_error("sd_listen_fds failed");
  }
  if (n == 0) {
    return std::nullopt;
  }
  if (n != 1) {
    throw std::runtime_error("expected exactly one socket from the service manager, got " + std::to_string(n));
  }
  const int fd = SD_LISTEN_FDS_START;
  const bool ok = unix_family ? ::sd_is_socket_unix(fd, type, 1, nullptr, 0) > 0
                              : (::sd_is_socket_inet(fd, AF_INET, type, 1, 0) > 0 ||
                                 ::sd_is_socket_inet(fd, AF_INET6, type, 1, 0) > 0);
  if (!ok) {
    throw std::runtime_error("the socket passed by the service manager is not a listening socket of the expected type");
  }
  return UniqueFd(fd);
}

}  // namespace

std::optional<UniqueFd> take_seqpacket_listener() { return take_one(SOCK_SEQPACKET, true); }
std::optional<UniqueFd> take_stream_listener() { return take_one(SOCK_STREAM, false); }

}  // namespace orbitnest::sd
