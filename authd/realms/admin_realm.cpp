#include "authd/realms/admin_realm.h"

namespace orbitnest::authd {

Realm make_admin_realm(const config::AuthdAdminConfig& cfg) {
  Realm realm;
  realm.kind = RealmKind::admin;
  realm.ref = std::string(kAdminRealmRef);
  realm.issuer = cfg.issuer;
  realm.keyring = "admin";  // keyd's admin keyring (keyd/keyring/keyring_registry.h)
  realm.audience = cfg.audience;
  realm.role = cfg.role;
  // What differs from a project's defaults: short-lived tokens, longer
  // passwords, a smaller request budget; no debug mode, no mail links.
  realm.settings.access_token_ttl_seconds = cfg.access_token_ttl_seconds;
  realm.settings.password_min_length = cfg.password_min_length;
  realm.settings.password_require_mixed = false;
  realm.settings.ip_requests_per_hour = cfg.ip_requests_per_hour;
  realm.settings.debug_mode = false;
  realm.settings.secure_password_change = true;
  realm.settings.cors_allowed_origins = cfg.allowed_origins;
  realm.settings.mfa_sign_in = cfg.mfa_sign_in;
  realm.settings.session_timebox_seconds = cfg.session_timebox_seconds;
  realm.settings.session_inactivity_timeout_seconds = cfg.session_inactivity_timeout_seconds;
  return realm;
}

}  // namespace orbitnest::authd
