#pragma once
// One OpenID provider as this appliance's client (authorization code
// flow with PKCE and nonce, OIDC Core §3.1): the discovery document and
// the JWKS are fetched when first needed and kept for an hour; a kid the
// cached set lacks refetches it, at most once a minute (a key just
// rotated in, never a forged kid on every request). A failed fetch is
// remembered for 30 s, so a provider that is down costs one exchange per
// 30 s, not one per request. No lock is held during I/O. Thread-safe.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "authd/oauth/id_token.h"
#include "authd/oauth/identity_provider.h"

namespace orbitnest::authd {

struct OidcClientConfig {
  std::string name;
  std::string issuer;
  std::string client_id;
  std::string client_secret;
  std::vector<std::string> scopes;
  std::string ca_file;
};

class OidcClient final : public IdentityProvider {
 public:
  explicit OidcClient(OidcClientConfig config) : m_config(std::move(config)) {}
  OidcClient(const OidcClient&) = delete;
  OidcClient& operator=(const OidcClient&) = delete;

  const std::string& name() const override { return m_config.name; }
  const std::string& issuer() const override { return m_config.issuer; }
  bool sends_iss() override { return endpoints().iss_parameter_supported; }
  // Where the browser goes to sign in (from the provider's discovery).
  std::string authorization_url(const AuthorizationRequest& request) override;
  // The code redeemed at the token endpoint (client_secret_basic, with our
  // PKCE verifier) and its ID token verified.
  ProviderIdentity redeem(const std::string& code, const std::string& code_verifier, const std::string& redirect_uri,
                          const std::string& nonce, std::int64_t now) override;

 private:
  OidcEndpoints endpoints();
  ProviderKeys keys(bool refetch);

  // The body of a GET, or the failure remembered for it.
  std::string fetch_document(const std::string& url, const char* what);

  OidcClientConfig m_config;
  std::mutex m_mutex;  // guards what follows; never held during I/O
  std::optional<OidcEndpoints> m_endpoints;
  std::chrono::steady_clock::time_point m_endpoints_at;
  ProviderKeys m_keys;
  std::chrono::steady_clock::time_point m_keys_at;
  std::chrono::steady_clock::time_point m_failed_until;
  std::string m_failure;
};

}  // namespace orbitnest::authd
