// Fuzzes keyd's claim check (JSON from authd): any input is accepted or
// refused with ClaimsRejected, nothing else.
#include <cstddef>
#include <cstdint>
#include <string>

#include "keyd/keyring/claims_policy.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const orbitnest::keyd::ClaimsPolicy policy{
      "https://h/projects/p/auth/v1", {"authenticated"}, {"authenticated", "anon"}, 3600, 60};
  try {
    (void)orbitnest::keyd::check_claims(std::string(reinterpret_cast<const char*>(data), size), policy, 1'800'000'000);
  } catch (const orbitnest::keyd::ClaimsRejected&) {
  }
  return 0;
}
