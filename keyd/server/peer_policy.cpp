#include "keyd/server/peer_policy.h"

#include <sys/socket.h>

#include <algorithm>
#include <fstream>
#include <stdexcept>

namespace orbitnest::keyd {

PeerCredentials peer_credentials(int fd) {
  struct ucred cred {};
  socklen_t len = sizeof(cred);
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof(cred)) {
    throw std::runtime_error("SO_PEERCRED failed");
  }
  PeerCredentials out;
  out.pid = cred.pid;
  out.uid = cred.uid;
  out.gid = cred.gid;
  std::vector<gid_t> groups(64);
  socklen_t glen = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &glen) == 0) {
    groups.resize(glen / sizeof(gid_t));
    out.groups = std::move(groups);
  }
  return out;
}

std::string peer_command(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
  std::string comm;
  if (!in || !std::getline(in, comm)) {
    return "?";
  }
  return comm;
}

PeerRights PeerPolicy::rights(const PeerCredentials& peer) const {
  PeerRights r;
  r.authd = peer.uid == m_authd_uid;
  r.operator_ = peer.uid == 0;
  if (m_operator_gid) {
    r.operator_ = r.operator_ || peer.gid == *m_operator_gid ||
                  std::find(peer.groups.begin(), peer.groups.end(), *m_operator_gid) != peer.groups.end();
  }
  return r;
}

}  // namespace orbitnest::keyd
