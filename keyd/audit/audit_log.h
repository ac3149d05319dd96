#pragma once
// The append-only, hash-chained audit log. append() writes one record and
// fsyncs it before returning; when it cannot, it throws and the
// administrative operation that asked must be refused (fail closed).
// Survives restarts: the chain continues from the file's last line.
#include <boost/json.hpp>

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

#include "keyd/server/peer_policy.h"
#include "systemd/unique_fd.h"

namespace orbitnest::keyd {

class AuditWriteFailed final : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct AuditEvent {
  std::string event;   // "key_generated", "key_promoted", "peer_refused", ...
  std::string op;      // protocol operation, if any
  std::string keyring;
  std::string kid;
  std::string result = "ok";
  std::optional<PeerCredentials> peer;
  std::string peer_command;
  boost::json::object detail;
};

class AuditLog final {
 public:
  // Signs a checkpoint message, returning the JOSE-form ES256 signature.
  using Signer = std::function<std::string(std::string_view message)>;

  AuditLog(std::string path, int checkpoint_every);
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  void append(const AuditEvent& e);
  // Checkpoints are signed only once a signer is set (after HSM login).
  void set_signer(Signer signer, std::string key_label);
  // Writes a signed checkpoint now (at every rotation, and every N records).
  void checkpoint();

  std::uint64_t head_seq() const;
  std::string head_hash() const;

 private:
  void write_line(boost::json::object record);  // m_mutex held
  void checkpoint_locked();

  std::string m_path;
  int m_checkpoint_every;
  mutable std::mutex m_mutex;
  UniqueFd m_fd;
  std::uint64_t m_seq = 0;
  std::string m_prev;
  int m_since_checkpoint = 0;
  Signer m_signer;
  std::string m_key_label;
};

}  // namespace orbitnest::keyd
