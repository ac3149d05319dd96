#include "authd/oauth/social_providers.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "authd/flows/email_address.h"
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
  // Reduced once, at start, as addresses are (email_address.h).
  for (const std::string& domain : settings.signup_domains) {
    try {
      const std::string canonical = canonical_email("x@" + domain);
      m_signup_domains.push_back(canonical.substr(2));
    } catch (const std::exception&) {
      throw std::runtime_error("admin.oauth.signup_domains: '" + domain + "' is not a domain an address can have");
    }
  }
  const std::string& url = settings.callback_url;
  const std::size_t host = url.find("://");
  const std::size_t path = host == std::string::npos ? std::string::npos : url.find('/', host + 3);
  m_callback_path = path == std::string::npos ? "/" : url.substr(path, url.find_first_of("?#", path) - path);
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
