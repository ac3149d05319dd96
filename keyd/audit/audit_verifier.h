#pragma once
// Checks an audit log: every line parses, sequence numbers run 1, 2, 3…,
// every "prev" is the SHA-256 of the line before, checkpoints come at the
// spacing they promise, every checkpoint's signature verifies with the
// audit public key (when given), and the log ends where keyd says its head
// is (when known). Names the first bad record.
//
// Spacing: a checkpoint signs "at most `every` records until the next
// checkpoint", and the records before the first checkpoint may be at most
// that first checkpoint's `every`. A log without any checkpoint passes only
// when the caller knows the configured spacing and the log is within it.
// So deleting records, dropping checkpoints or rehashing the chain (which
// breaks every later signature) is caught. What no file check can catch is
// a cut right after a checkpoint: only keyd's live head (or a copy of it
// kept elsewhere) shows that.
#include <cstdint>
#include <optional>
#include <string>

namespace orbitnest::keyd {

struct AuditHead {
  std::uint64_t seq = 0;
  std::string hash;
};

struct AuditExpectations {
  std::string public_key_pem;  // the audit key (SubjectPublicKeyInfo PEM); empty: signatures not checked
  std::optional<AuditHead> head;  // keyd's own head, when known
  // audit.checkpoint_every, when known: the spacing of a log that has no
  // checkpoint yet (keyd never opened its HSM).
  std::optional<std::uint64_t> checkpoint_every;
};

struct AuditVerdict {
  bool ok = true;
  std::uint64_t records = 0;
  std::uint64_t checkpoints = 0;
  std::uint64_t bad_record = 0;  // 1-based line number of the first bad record
  std::string problem;
  AuditHead head;
  // Records after the last checkpoint: no signature vouches for them yet.
  std::uint64_t unsigned_tail = 0;
  // The spacing promised by the last checkpoint (0: none).
  std::uint64_t checkpoint_every = 0;
};

AuditVerdict verify_audit_log(const std::string& text, const AuditExpectations& expect);

}  // namespace orbitnest::keyd
