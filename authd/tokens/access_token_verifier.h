#pragma once
// Verifies an incoming access token locally: the signature with the
// project's keys (cached JWKS), then the claims. Any failure is a 403
// bad_jwt, as GoTrue answers; nothing about which check failed leaks
// beyond the message.
#include <boost/json.hpp>

#include <cstdint>
#include <mutex>
#include <unordered_map>
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
  AccessTokenVerifier(const AccessTokenVerifier&) = delete;
  AccessTokenVerifier(AccessTokenVerifier&& other) noexcept : m_jwks(other.m_jwks) {}

  // Tokens that verified are remembered (by SHA-256, until they expire), so
  // a client that reuses its token costs one signature check, not one per
  // request. The session is still checked on every request by the caller.
  // `audience`: the aud the token must carry (a string, or an array that
  // holds it); a token for another audience is a 403 bad_jwt.
  VerifiedToken verify(const std::string& token, const std::string& keyring, const std::string& issuer,
                       const std::string& audience, std::int64_t now) const;

 private:
  VerifiedToken verify_signature_and_claims(const std::string& token, const std::string& keyring,
                                            const std::string& issuer, const std::string& audience,
                                            std::int64_t now) const;
  struct Remembered {
    VerifiedToken token;
    std::int64_t exp;
  };
  static constexpr std::size_t kMaxRemembered = 20000;
  JwksCache& m_jwks;
  mutable std::mutex m_mutex;
  mutable std::unordered_map<std::string, Remembered> m_verified;
};

// The bearer token of the request; nullopt when there is none, or when it
// is an API key (supabase-js sends "Bearer sb_publishable_..." without a
// session), which is no user.
std::optional<std::string> bearer_token(const Request& req);

}  // namespace orbitnest::authd
