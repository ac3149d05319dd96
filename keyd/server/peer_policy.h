#pragma once
// Who is on the other end of a keyd connection (SO_PEERCRED, taken by the
// kernel at connect time, so the peer cannot forge it) and what it may do.
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "keyd/protocol/protocol.h"

namespace orbitnest::keyd {

struct PeerCredentials {
  pid_t pid = 0;  // advisory only (PIDs are reused): logged, never trusted
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups (SO_PEERGROUPS)
};

// Reads SO_PEERCRED and SO_PEERGROUPS; throws std::runtime_error.
PeerCredentials peer_credentials(int fd);
// The peer's command name from /proc (for logs only); "?" if unknown.
std::string peer_command(pid_t pid);

struct PeerRights {
  bool authd = false;
  bool operator_ = false;
  bool any() const { return authd || operator_; }
};

class PeerPolicy final {
 public:
  PeerPolicy(uid_t authd_uid, std::optional<gid_t> operator_gid)
      : m_authd_uid(authd_uid), m_operator_gid(operator_gid) {}
  // authd's uid gets the authd operations; root and members of the
  // operator group get the operator ones; everyone else nothing. Which
  // operation belongs to which class is the op table's (op_table.cpp).
  PeerRights rights(const PeerCredentials& peer) const;

 private:
  uid_t m_authd_uid;
  std::optional<gid_t> m_operator_gid;
};

}  // namespace orbitnest::keyd
