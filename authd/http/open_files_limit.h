#pragma once
// authd holds one descriptor per connection plus a fixed share for
// everything else; at the open-files limit accept() fails. So at start
// authd raises its soft RLIMIT_NOFILE to the hard limit and refuses to run
// with a max_connections that cannot fit (systemd's default soft limit is
// 1,024; authd.service sets LimitNOFILE=).
#include <string>

#include "config/authd_config.h"

namespace orbitnest::authd {

// Descriptors authd may need: max_connections, the database pool, the
// keyd links, and a fixed allowance for the listener, the event loop,
// logs, mail and reloads.
long open_files_needed(const config::AuthdConfig& cfg);

// Raises the soft limit to the hard one, then returns "" when
// open_files_needed() fits, else the problem in one line.
std::string fit_open_files_limit(const config::AuthdConfig& cfg);

}  // namespace orbitnest::authd
