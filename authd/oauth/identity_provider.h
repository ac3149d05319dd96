#pragma once
// A social sign-in provider as the flow sees it: where to send the
// browser, and what the code it sends back proves. OpenID Connect
// providers (oidc_client.h) and GitHub (github_client.h) are the two kinds.
#include <cstdint>
#include <string>

#include "authd/oauth/id_token.h"

namespace orbitnest::authd {

struct AuthorizationRequest {
  std::string redirect_uri;  // our callback
  std::string state;
  std::string nonce;           // OpenID Connect only
  std::string code_challenge;  // S256 of the verifier we keep
};

class IdentityProvider {
 public:
  virtual ~IdentityProvider() = default;
  virtual const std::string& name() const = 0;
  // What an RFC 9207 `iss` on the callback must be ("" when the provider
  // sends none).
  virtual const std::string& issuer() const = 0;
  // Whether every callback must carry that iss (the provider says it
  // always sends one).
  virtual bool sends_iss() = 0;
  // Throws ProviderError when the provider cannot be reached (code
  // over_capacity when too many exchanges with providers are in flight).
  virtual std::string authorization_url(const AuthorizationRequest& request) = 0;
  // Redeems the code (with our PKCE verifier) and says who signed in.
  // Throws ProviderError.
  virtual ProviderIdentity redeem(const std::string& code, const std::string& code_verifier,
                                  const std::string& redirect_uri, const std::string& nonce, std::int64_t now) = 0;
};

}  // namespace orbitnest::authd
