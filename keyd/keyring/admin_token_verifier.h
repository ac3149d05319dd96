#pragma once
// An admin's access token, checked by keyd itself for the operations it
// does in an admin's name (rotate_by_admin): authd passes the token on and
// keyd verifies it against the admin keyring's published keys, so authd's
// word that "an admin asked" is never enough on its own.
//
// Accepted only: a compact JWS with alg ES256, RS256 or EdDSA matching the
// admin key its kid names (next, current or previous), a signature that
// verifies, iss the admin keyring's issuer, every aud an admin audience,
// role an admin role, a non-empty sub, exp after keyd's now, iat not in
// the future beyond the clock skew, nbf (if any) likewise, and a life of
// at most kMaxAdminTokenLifetimeSeconds.
#include <boost/json.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/keyd_config.h"
#include "keyd/keyring/jwks_publisher.h"
#include "keyd/keyring/keyring_registry.h"

namespace orbitnest::keyd {

// An admin token authorises a key change with no further proof, so keyd
// takes only short-lived ones: 15 minutes bounds what a leaked token (a
// log line, a proxy) is worth, and is more than an admin console needs
// between two refreshes. keyd may sign admin tokens living up to
// keyrings.max_token_lifetime_seconds; those are refused here.
inline constexpr std::int64_t kMaxAdminTokenLifetimeSeconds = 900;

struct AdminTokenRules {
  std::string issuer;
  std::vector<std::string> audiences;
  std::vector<std::string> roles;
  std::int64_t clock_skew_seconds = 60;
};

// Who the token names, for the audit record.
struct AdminIdentity {
  std::string sub;
  std::string role;
  std::string session_id;  // empty when the token carries none
  std::string actor() const { return "admin:" + sub; }
};

// The claim checks alone (the signature is checked before): a pure
// function, so a unit test reaches every rule. Throws KeyringRefused.
AdminIdentity check_admin_claims(const boost::json::object& claims, const AdminTokenRules& rules, std::int64_t now);

class AdminTokenVerifier final {
 public:
  AdminTokenVerifier(KeyringRegistry& registry, JwksPublisher& jwks, const config::KeydConfig& cfg)
      : m_registry(registry), m_jwks(jwks), m_cfg(cfg) {}

  // Throws KeyringRefused ("admin token refused: <why>") for anything but
  // a valid admin token at `now` (keyd's clock).
  AdminIdentity verify(std::string_view token, std::int64_t now);

 private:
  KeyringRegistry& m_registry;
  JwksPublisher& m_jwks;
  const config::KeydConfig& m_cfg;
};

}  // namespace orbitnest::keyd
