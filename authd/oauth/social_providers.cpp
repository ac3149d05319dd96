#include "authd/oauth/social_providers.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "authd/oauth/github_client.h"
#include "authd/oauth/oidc_client.h"

namespace orbitnest::authd {
namespace {

std::string read_secret(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot read " + path);
  }
  std::ostringstream text;
  text << in.rdbuf();
  std::string secret = text.str();
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) {
    secret.pop_back();
  }
  if (secret.empty()) {
    throw std::runtime_error(path + " is empty");
  }
  return secret;
}

}  // namespace

SocialProviders::SocialProviders(const config::AuthdAdminConfig::OAuth& settings) : m_settings(settings) {
  for (const config::AuthdAdminConfig::OAuthProvider& p : settings.providers) {
    if (p.kind == "github") {
      m_clients.emplace(p.name, std::make_unique<GitHubClient>(GitHubClientConfig{
                                    p.name, p.client_id, read_secret(p.client_secret_file), p.scopes,
                                    p.authorization_endpoint, p.token_endpoint, p.api_base, settings.ca_file}));
    } else {
      m_clients.emplace(p.name, std::make_unique<OidcClient>(OidcClientConfig{
                                    p.name, p.issuer, p.client_id, read_secret(p.client_secret_file), p.scopes,
                                    settings.ca_file}));
    }
  }
}

IdentityProvider* SocialProviders::find(const std::string& name) const {
  const auto it = m_clients.find(name);
  return it == m_clients.end() ? nullptr : it->second.get();
}

}  // namespace orbitnest::authd
