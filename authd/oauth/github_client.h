#pragma once
// GitHub as a sign-in provider: OAuth 2 without OpenID Connect, so who
// signed in is asked of its REST API with the access token the code buys
// (GET /user for the stable numeric id, GET /user/emails for the PRIMARY
// address and whether GitHub verified it). Only a verified primary
// address can link an admin: a secondary one is anyone's to add.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "authd/oauth/identity_provider.h"

namespace orbitnest::authd {

struct GitHubClientConfig {
  std::string name;
  std::string client_id;
  std::string client_secret;
  std::vector<std::string> scopes;  // read:user user:email
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::string api_base;
  std::string ca_file;
};

// GET /user and GET /user/emails as the identity; untrusted bytes (unit
// tests and the fuzzer take it alone). Throws ProviderError.
ProviderIdentity github_identity(std::string_view user_json, std::string_view emails_json);

class GitHubClient final : public IdentityProvider {
 public:
  explicit GitHubClient(GitHubClientConfig config) : m_config(std::move(config)) {}

  const std::string& name() const override { return m_config.name; }
  const std::string& issuer() const override { return m_no_issuer; }  // GitHub sends no iss
  bool sends_iss() override { return false; }
  std::string authorization_url(const AuthorizationRequest& request) override;
  ProviderIdentity redeem(const std::string& code, const std::string& code_verifier, const std::string& redirect_uri,
                          const std::string& nonce, std::int64_t now) override;

 private:
  GitHubClientConfig m_config;
  const std::string m_no_issuer;
};

}  // namespace orbitnest::authd
