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
  PasskeySettings& passkey = realm.settings.passkey;
  passkey.enabled = cfg.passkey.enabled;
  passkey.rp_id = cfg.passkey.rp_id;
  passkey.rp_name = cfg.passkey.rp_name;
  passkey.origins = cfg.passkey.origins;
  if (passkey.origins.empty()) {
    passkey.origins.push_back("https://" + cfg.passkey.rp_id + ":" + std::to_string(cfg.listen.port));
    passkey.origins.insert(passkey.origins.end(), cfg.allowed_origins.begin(), cfg.allowed_origins.end());
  }
  passkey.user_verification = cfg.passkey.user_verification;
  passkey.resident_key = cfg.passkey.resident_key;
  passkey.attestation = cfg.passkey.attestation;
  return realm;
}

}  // namespace orbitnest::authd
