#pragma once
// Verifies an incoming access token locally: the signature with the
// project's keys (cached JWKS), then the claims. Any failure is a 403
// bad_jwt, as GoTrue answers; nothing about which check failed leaks
// beyond the message.
#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "authd/http/http_types.h"
#include "authd/tokens/jwks_cache.h"

namespace orbitnest::authd {

struct VerifiedToken {
  boost::json::object claims;
  std::string user_id;
  std::string session_id;
  std::string role;
};

class AccessTokenVerifier final {
 public:
  explicit AccessTokenVerifier(JwksCache& jwks) : m_jwks(jwks) {}
  VerifiedToken verify(const std::string& token, const std::string& keyring, const std::string& issuer,
                       std::int64_t now) const;

 private:
  JwksCache& m_jwks;
};

// The bearer token of the request; nullopt when there is none, or when it
// is an API key (supabase-js sends "Bearer sb_publishable_..." without a
// session), which is no user.
std::optional<std::string> bearer_token(const Request& req);

}  // namespace orbitnest::authd
