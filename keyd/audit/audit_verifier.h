#pragma once
// Checks an audit log: every line parses, sequence numbers run 1, 2, 3…,
// every "prev" is the SHA-256 of the line before, every checkpoint's
// signature verifies with the audit public key (when given), and the log
// ends where keyd says its head is (when known). Names the first bad record.
#include <cstdint>
#include <optional>
#include <string>

namespace orbitnest::keyd {

struct AuditHead {
  std::uint64_t seq = 0;
  std::string hash;
};

struct AuditVerdict {
  bool ok = true;
  std::uint64_t records = 0;
  std::uint64_t checkpoints = 0;
  std::uint64_t bad_record = 0;  // 1-based line number of the first bad record
  std::string problem;
  AuditHead head;
};

// `public_key_pem`: the audit key (SubjectPublicKeyInfo PEM), or empty to
// skip signature checks.
AuditVerdict verify_audit_log(const std::string& text, const std::string& public_key_pem,
                              const std::optional<AuditHead>& expected_head);

}  // namespace orbitnest::keyd
