#include "authd/http/open_files_limit.h"

#include <sys/resource.h>

#include <algorithm>

namespace orbitnest::authd {
namespace {

// Listener, epoll and its eventfds/timerfds, signal pipe, the journal or
// log stream, /dev/urandom, SMTP/SMS transfers, TLS files read on reload,
// and spares for whatever a library opens briefly.
constexpr long kFixedAllowance = 64;

}  // namespace

long open_files_needed(const config::AuthdConfig& cfg) {
  // KeydLink keeps at most one connection per worker thread, capped at 16 (authd_main.cpp).
  const long keyd_links = std::min(cfg.workers.threads, 16);
  return static_cast<long>(cfg.http.max_connections) + (cfg.admin.enabled ? config::kAdminConnections : 0) +
         cfg.database.pool_size + cfg.rest.pool_size + keyd_links +
         kFixedAllowance;
}

std::string fit_open_files_limit(const config::AuthdConfig& cfg) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return "cannot read RLIMIT_NOFILE";
  }
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised{limit.rlim_max, limit.rlim_max};
    // May be refused (a seccomp filter without setrlimit): then the
    // current soft limit is what counts.
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      limit = raised;
    }
  }
  const long needed = open_files_needed(cfg);
  if (limit.rlim_cur != RLIM_INFINITY && static_cast<rlim_t>(needed) > limit.rlim_cur) {
    return std::to_string(cfg.http.max_connections) + " connections need " + std::to_string(needed) +
           " open files with the database pools, keyd links and other files, but RLIMIT_NOFILE is " +
           std::to_string(limit.rlim_cur) + "; raise LimitNOFILE= or lower http.max_connections";
  }
  return "";
}

}  // namespace orbitnest::authd
