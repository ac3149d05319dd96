#pragma once
// The append-only, hash-chained audit log. append() writes one record and
// fsyncs it before returning; when it cannot, it throws and the
// administrative operation that asked must be refused (fail closed).
//
// Checkpoints signed by the HSM audit key come every `checkpoint_every`
// records, at every rotation, when keyd starts signing (over the head it
// continues) and at a clean stop. The log never holds more than that many
// records without a checkpoint: a record that would break the spacing while
// no checkpoint can be signed (no HSM yet, HSM error) is refused.
//
// Survives restarts, but only continues a file that verifies: the
// constructor checks the chain and the spacing, start_signing() every
// checkpoint signature; either throws AuditLogRejected and keyd stops.
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

// The file keyd would continue does not verify (altered, cut, checkpoints
// missing or forged): keyd refuses to start rather than adopt its head.
class AuditLogRejected final : public std::runtime_error {
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

  // Checks the existing file's chain and spacing and adopts its head;
  // throws AuditLogRejected if it does not verify.
  AuditLog(std::string path, int checkpoint_every);
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  void append(const AuditEvent& e);
  // After HSM login: checks every checkpoint of the file with the audit key
  // and that the file still ends at this process's head (throws
  // AuditLogRejected if not), then signs a checkpoint over that head.
  void start_signing(Signer signer, std::string key_label, const std::string& public_key_pem);
  // Writes a signed checkpoint now (rotation, clean stop); nothing before
  // start_signing().
  void checkpoint();

  std::uint64_t head_seq() const;
  std::string head_hash() const;

 private:
  void write_line(boost::json::object record);  // m_mutex held
  void checkpoint_locked();                      // idem; throws AuditWriteFailed
  std::string read_file() const;

  std::string m_path;
  std::uint64_t m_checkpoint_every;
  mutable std::mutex m_mutex;
  UniqueFd m_fd;
  std::uint64_t m_seq = 0;
  std::string m_prev;
  std::uint64_t m_since_checkpoint = 0;
  // Records allowed after the last checkpoint: what it promised (the
  // configured spacing once keyd has signed one itself).
  std::uint64_t m_limit;
  Signer m_signer;
  std::string m_key_label;
};

}  // namespace orbitnest::keyd
