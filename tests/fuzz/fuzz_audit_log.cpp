// Fuzzes the audit log verifier (keydctl reads files an operator hands it):
// it must return a verdict for any bytes, never crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "keyd/audit/audit_verifier.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  using orbitnest::keyd::AuditExpectations;
  (void)orbitnest::keyd::verify_audit_log(text, AuditExpectations{});
  (void)orbitnest::keyd::verify_audit_log(text, AuditExpectations{"", orbitnest::keyd::AuditHead{3, "00"}, 2});
  return 0;
}
