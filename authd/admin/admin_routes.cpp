#include "authd/admin/admin_routes.h"

#include <algorithm>
#include <string>

#include "authd/admin/key_flows.h"
#include "authd/admin/passkey_admin_flows.h"
#include "authd/admin/social_sign_in.h"
#include "authd/api/api_error.h"

namespace orbitnest::authd {
namespace {

Response admin_health(AuthServices& s, const RealmCall&) { return s.health(); }

constexpr ErrorShape kGoTrue = ErrorShape::gotrue_legacy;
constexpr Execution kWorkers = Execution::blocking;
constexpr CorsPolicy kSameOrigin = CorsPolicy::same_origin;

// clang-format off
constexpr RouteSpec kRoutes[] = {
//  name                    method    path                        access          rate              body           cors        errors   pool      open flow      project-user flow  admin flow                        execution_for
  {"admin.token",          "POST",   "/token",                     Access::none,   RateClass::token, kAuthJsonBody, kSameOrigin, kGoTrue, kWorkers, token,         nullptr,           nullptr,                          token_execution, token_rate},
  {"admin.authorize",      "GET",    "/authorize",                 Access::none,   RateClass::token, kNoBody,       kSameOrigin, kGoTrue, kWorkers, social_authorize, nullptr,        nullptr},
  {"admin.callback",       "GET",    "/callback",                  Access::none,   RateClass::token, kNoBody,       kSameOrigin, kGoTrue, kWorkers, social_callback, nullptr,         nullptr},
  {"admin.mfa.verify",       "POST",   "/mfa/verify",                Access::none,   RateClass::mfa,   kPasskeyBody , kSameOrigin, kGoTrue, kWorkers, verify_sign_in, nullptr,          nullptr},
  {"admin.logout",         "POST",   "/logout",                    Access::admin,  RateClass::none,  kAuthJsonBody, kSameOrigin, kGoTrue, kWorkers, nullptr,       nullptr,           served_to<AdminUser, logout>},
  {"admin.me",             "GET",    "/me",                        Access::admin,  RateClass::none,  kNoBody,       kSameOrigin, kGoTrue, kWorkers, nullptr,       nullptr,           served_to<AdminUser, get_user>},
  {"admin.sessions.list",  "GET",    "/sessions",                  Access::admin,  RateClass::none,  kNoBody,       kSameOrigin, kGoTrue, kWorkers, nullptr,       nullptr,           served_to<AdminUser, list_sessions>},
  {"admin.sessions.revoke","DELETE", "/sessions/{id}",             Access::admin,  RateClass::none,  kNoBody,       kSameOrigin, kGoTrue, kWorkers, nullptr,       nullptr,           served_to<AdminUser, revoke_session>},
  {"admin.factors.enroll",   "POST",   "/factors",                   Access::admin,  RateClass::mfa,   kAuthJsonBody, kSameOrigin, kGoTrue, kWorkers, nullptr,       nullptr,           served_to<AdminUser, enroll_factor>},
  {"admin.factors.challenge","POST",   "/factors/{id}/challenge",    Access::admin,  RateClass::mfa,   kAuthJsonBody, kSameOrigin, kGoTrue, kWorkers, nullptr,       nullptr,           served_to<AdminUser, challenge_factor>},
  {"admin.factors.verify",   "POST",   "/factors/{id}/verify",       Access::admin,  RateClass::mfa,   kPasskeyBody , kSameOrigin, kGoTrue, kWorkers, nullptr,       nullptr,           served_to<AdminUser, verify_factor>},
  {"admin.factors.unenroll", "DELETE", "/factors/{id}",              Access::admin,  RateClass::mfa,   kNoBody,       kSameOrigin, kGoTrue, kWorkers, nullptr,       nullptr,           served_to<AdminUser, unenroll_factor>},
  {"admin.factors.recovery_codes.regenerate", "POST", "/factors/recovery_codes/regenerate", Access::admin_aal2, RateClass::mfa, kAuthJsonBody, kSameOrigin, kGoTrue, kWorkers, nullptr, nullptr, served_to<AdminUser, regenerate_recovery_codes>},
  {"admin.keys.rotate",    "POST",   "/keys/rotate",               Access::admin_aal2, RateClass::admin, kAuthJsonBody, kSameOrigin, kGoTrue, kWorkers, nullptr,       nullptr,           rotate_keys},
  {"admin.passkeys.registration.options",   "POST", "/passkeys/registration/options",   Access::admin, RateClass::mfa,   kAuthJsonBody, kSameOrigin, kGoTrue, kWorkers, nullptr, nullptr, served_to<AdminUser, passkey_registration_options>},
  {"admin.passkeys.registration.verify",    "POST", "/passkeys/registration/verify",    Access::admin, RateClass::mfa,   kPasskeyBody,  kSameOrigin, kGoTrue, kWorkers, nullptr, nullptr, served_to<AdminUser, passkey_registration_verify>},
  {"admin.passkeys.authentication.options", "POST", "/passkeys/authentication/options", Access::none,  RateClass::token, kAuthJsonBody, kSameOrigin, kGoTrue, kWorkers, passkey_authentication_options, nullptr, nullptr},
  {"admin.passkeys.authentication.verify",  "POST", "/passkeys/authentication/verify",  Access::none,  RateClass::token, kPasskeyBody,  kSameOrigin, kGoTrue, kWorkers, passkey_authentication_verify,  nullptr, nullptr},
  {"admin.passkeys.list",    "GET",    "/passkeys",                Access::admin,      RateClass::none, kNoBody,       kSameOrigin, kGoTrue, kWorkers, nullptr, nullptr, served_to<AdminUser, list_passkeys>},
  {"admin.passkeys.rename",  "PATCH",  "/passkeys/{id}",           Access::admin,      RateClass::mfa,  kAuthJsonBody, kSameOrigin, kGoTrue, kWorkers, nullptr, nullptr, served_to<AdminUser, rename_passkey>},
  {"admin.passkeys.revoke",  "DELETE", "/passkeys/{id}",           Access::admin,      RateClass::mfa,  kNoBody,       kSameOrigin, kGoTrue, kWorkers, nullptr, nullptr, served_to<AdminUser, revoke_passkey>},
  {"admin.user_passkeys.list",   "GET",    "/projects/{ref}/users/{user_id}/passkeys",      Access::admin_aal2, RateClass::admin, kNoBody,       kSameOrigin, kGoTrue, kWorkers, nullptr, nullptr, admin_list_user_passkeys},
  {"admin.user_passkeys.rename", "PATCH",  "/projects/{ref}/users/{user_id}/passkeys/{id}", Access::admin_aal2, RateClass::admin, kAuthJsonBody, kSameOrigin, kGoTrue, kWorkers, nullptr, nullptr, admin_rename_user_passkey},
  {"admin.user_passkeys.revoke", "DELETE", "/projects/{ref}/users/{user_id}/passkeys/{id}", Access::admin_aal2, RateClass::admin, kNoBody,       kSameOrigin, kGoTrue, kWorkers, nullptr, nullptr, admin_revoke_user_passkey},
  {"admin.jwks",           "GET",    "/.well-known/jwks.json",     Access::none,   RateClass::none,  kNoBody,       kSameOrigin, kGoTrue, kWorkers, jwks,          nullptr,           nullptr},
  {"admin.health",         "GET",    "/health",                    Access::none,   RateClass::none,  kNoBody,       kSameOrigin, kGoTrue, kWorkers, admin_health,  nullptr,           nullptr},
};
// clang-format on

// Same origin only: a page of another origin gets no CORS answer (so the
// browser shows it nothing), and its request is refused before it acts.
void refuse_foreign_origin(const Realm& admin, const Request& req) {
  const auto it = req.headers.find("Origin");
  if (it == req.headers.end()) {
    return;  // not a browser's cross-origin request
  }
  const std::vector<std::string>& allowed = admin.settings.cors_allowed_origins;
  if (std::find(allowed.begin(), allowed.end(), it->second) == allowed.end()) {
    throw ApiError(403, "origin_not_allowed", "The admin API answers only its own origin");
  }
}

Handler adapt(AuthServices& s, const RouteSpec& row) {
  return [&s, &row](const Request& req) {
    return answer_errors(s, row, req, [&] {
      refuse_foreign_origin(s.admin_realm, req);
      return run_route(s, row, RealmCall{req, s.admin_realm, ApiKeyKind::none, nullptr});
    });
  };
}

}  // namespace

std::span<const RouteSpec> admin_route_specs() { return kRoutes; }

void register_admin_routes(RouteTable& routes, AuthServices& s) {
  add_route_table(routes, Surface::admin, "/admin/v1", kRoutes, [&s](const RouteSpec& row) { return adapt(s, row); });
}

}  // namespace orbitnest::authd
