#pragma once
// What an OpenID provider says, read as untrusted bytes: its discovery
// document, its JWKS, and the ID token of a sign-in (OIDC Core §3.1.3.7),
// verified with nothing but the provider's published keys and what the
// sign-in began with (our client id, the nonce we sent). No I/O here: the
// unit tests and the fuzzer take these functions alone.
#include <boost/json.hpp>
#include <botan/pk_keys.h>

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace orbitnest::authd {

// Why a provider's answer is refused; code() is the API's error code.
class ProviderError final : public std::runtime_error {
 public:
  ProviderError(std::string code, const std::string& message) : std::runtime_error(message), m_code(std::move(code)) {}
  const std::string& code() const { return m_code; }

 private:
  std::string m_code;
};

struct OidcEndpoints {
  std::string issuer;
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::string jwks_uri;
  // RFC 9207: the provider puts iss in every authorization response.
  bool iss_parameter_supported = false;
};
// The discovery document of `issuer` (its "issuer" must be exactly that;
// every endpoint https). Throws ProviderError.
OidcEndpoints parse_discovery(std::string_view json, const std::string& issuer);

// Signing keys by kid (a key without kid under ""); keys for encryption
// and of kinds we do not verify are skipped. Throws ProviderError.
using ProviderKeys = std::map<std::string, std::shared_ptr<const Botan::Public_Key>>;
ProviderKeys parse_jwks(std::string_view json);

struct IdTokenCheck {
  std::string issuer;
  std::string client_id;
  std::string nonce;
  std::int64_t now = 0;
  std::int64_t leeway_seconds = 60;   // clocks of provider and appliance differ
  std::int64_t max_age_seconds = 600; // an ID token issued longer ago is stale
};

struct ProviderIdentity {
  std::string subject;  // sub: the provider's stable id of the person
  std::string email;    // "" when none was given
  bool email_verified = false;
  std::string name;
  boost::json::object claims;  // kept as identity_data
};

// Verifies signature (by the kid's key; a token without kid only when
// the set has a single key), iss, aud (and azp with several audiences),
// exp, iat, nonce, and reads sub, email, email_verified (true or "true"),
// name. Throws ProviderError(bad_oauth_callback).
ProviderIdentity verify_id_token(std::string_view token, const ProviderKeys& keys, const IdTokenCheck& check);

}  // namespace orbitnest::authd
