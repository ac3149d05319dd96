#pragma once
// The admins' social sign-in providers (authd.yaml admin.oauth): an
// OidcClient or a GitHubClient each, with its client secret read from its
// file at start.
#include <map>
#include <memory>
#include <string>

#include "authd/oauth/identity_provider.h"
#include "config/authd_config.h"

namespace orbitnest::authd {

class SocialProviders final {
 public:
  // Throws std::runtime_error when a secret file cannot be read.
  explicit SocialProviders(const config::AuthdAdminConfig::OAuth& settings);

  // nullptr for a name that is not configured.
  IdentityProvider* find(const std::string& name) const;
  const config::AuthdAdminConfig::OAuth& settings() const { return m_settings; }
  bool empty() const { return m_clients.empty(); }

 private:
  config::AuthdAdminConfig::OAuth m_settings;
  std::map<std::string, std::unique_ptr<IdentityProvider>> m_clients;
};

}  // namespace orbitnest::authd
