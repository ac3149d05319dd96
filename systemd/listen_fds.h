#pragma once
// Socket activation: take the listening socket systemd passed (LISTEN_FDS).
#include <optional>
#include <string>

#include "systemd/unique_fd.h"

namespace orbitnest::sd {

// Returns the one passed socket when it is a listening AF_UNIX
// SOCK_SEQPACKET socket; nullopt when nothing was passed. Throws
// std::runtime_error when something else was passed (a wrong unit file
// must stop the daemon, not be ignored).
std::optional<UniqueFd> take_seqpacket_listener();

// Same for a listening TCP (SOCK_STREAM, AF_INET/AF_INET6) socket.
std::optional<UniqueFd> take_stream_listener();

}  // namespace orbitnest::sd
