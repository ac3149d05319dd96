#pragma once
// What keyd agrees to sign for a keyring. authd sends claims; keyd checks
// them here, then builds the JOSE header and payload itself.
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace orbitnest::keyd {

struct ClaimsPolicy {
  std::string issuer;
  std::vector<std::string> audiences;
  std::vector<std::string> roles;
  std::int64_t max_lifetime_seconds = 3600;
  std::int64_t clock_skew_seconds = 60;
};

class ClaimsRejected final : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses `claims_json` (at most 16 KiB, one JSON object) and checks it:
// iss equals the keyring's issuer; aud is an allowed audience (a string or
// an array of allowed ones); role is allowed; sub is a non-empty string;
// iat is an integer within the skew of `now`; exp is an integer after now,
// after iat, and at most max_lifetime after iat; nbf, if present, is not
// in the future beyond the skew. Returns the payload to sign (the claims,
// re-serialised). Throws ClaimsRejected naming the first problem.
std::string check_claims(const std::string& claims_json, const ClaimsPolicy& policy, std::int64_t now);

}  // namespace orbitnest::keyd
