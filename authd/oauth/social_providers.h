#pragma once
// The admins' social sign-in providers (authd.yaml admin.oauth): an
// OidcClient or a GitHubClient each, with its client secret read from its
// file at start.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "authd/oauth/identity_provider.h"
#include "config/authd_config.h"

namespace orbitnest::authd {

class SocialProviders final {
 public:
  // Throws std::runtime_error when a secret file cannot be read or a
  // signup domain is not one an address can have.
  explicit SocialProviders(const config::AuthdAdminConfig::OAuth& settings);

  // nullptr for a name that is not configured.
  IdentityProvider* find(const std::string& name) const;
  const config::AuthdAdminConfig::OAuth& settings() const { return m_settings; }
  // signup_domains in the form canonical addresses carry (IDNs as A-labels).
  const std::vector<std::string>& signup_domains() const { return m_signup_domains; }
  // The path of callback_url (what the binding cookie is scoped to).
  const std::string& callback_path() const { return m_callback_path; }
  bool empty() const { return m_clients.empty(); }

 private:
  config::AuthdAdminConfig::OAuth m_settings;
  std::vector<std::string> m_signup_domains;
  std::string m_callback_path;
  std::map<std::string, std::unique_ptr<IdentityProvider>> m_clients;
};

}  // namespace orbitnest::authd
