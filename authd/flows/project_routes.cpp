#include "authd/flows/project_routes.h"

#include <string>

#include "authd/api/api_error.h"
#include "authd/flows/cors.h"
#include "authd/rest/rpc.h"

namespace orbitnest::authd {
namespace {

// OPTIONS: the project's CORS answer (its allowed origins are settings).
Response preflight(AuthServices&, const RealmCall& c) { return preflight_response(c.req, c.realm.settings); }

Response project_health(AuthServices& s, const RealmCall&) { return s.health(); }

constexpr ErrorShape kGoTrue = ErrorShape::gotrue_legacy;
constexpr ErrorShape kPostgrest = ErrorShape::postgrest;
constexpr Execution kWorkers = Execution::blocking;
constexpr Execution kHashing = Execution::password;
constexpr CorsPolicy kProject = CorsPolicy::project_origins;

// clang-format off
constexpr RouteSpec kRoutes[] = {
//  name              method     path                               access                 rate               body           cors      errors      pool      open flow        project-user flow                 admin flow, execution_for
  {"signup",         "POST",    "/auth/v1/signup",                  Access::api_key,       RateClass::signup, kAuthJsonBody, kProject, kGoTrue,    kHashing, signup,          nullptr},
  {"otp",            "POST",    "/auth/v1/otp",                     Access::api_key,       RateClass::otp,    kAuthJsonBody, kProject, kGoTrue,    kWorkers, otp,             nullptr},
  {"resend",         "POST",    "/auth/v1/resend",                  Access::api_key,       RateClass::otp,    kAuthJsonBody, kProject, kGoTrue,    kWorkers, resend,          nullptr},
  {"recover",        "POST",    "/auth/v1/recover",                 Access::api_key,       RateClass::otp,    kAuthJsonBody, kProject, kGoTrue,    kWorkers, recover,         nullptr},
  {"verify",         "POST",    "/auth/v1/verify",                  Access::none,          RateClass::verify, kAuthJsonBody, kProject, kGoTrue,    kWorkers, verify,          nullptr},
  {"token",          "POST",    "/auth/v1/token",                   Access::api_key,       RateClass::token,  kAuthJsonBody, kProject, kGoTrue,    kWorkers, token,           nullptr,        nullptr, token_execution, token_rate},
  {"user.get",       "GET",     "/auth/v1/user",                    Access::project_user,  RateClass::none,   kNoBody,       kProject, kGoTrue,    kWorkers, nullptr,        served_to<ProjectUser, get_user>},
  {"user.update",    "PUT",     "/auth/v1/user",                    Access::project_user,  RateClass::otp,    kAuthJsonBody, kProject, kGoTrue,    kHashing, nullptr,        served_to<ProjectUser, put_user>},
  {"reauthenticate", "GET",     "/auth/v1/reauthenticate",          Access::project_user,  RateClass::otp,    kNoBody,       kProject, kGoTrue,    kWorkers, nullptr,        served_to<ProjectUser, reauthenticate>},
  {"logout",         "POST",    "/auth/v1/logout",                  Access::project_user,  RateClass::none,   kAuthJsonBody, kProject, kGoTrue,    kWorkers, nullptr,        served_to<ProjectUser, logout>},
  {"mfa.verify",       "POST",  "/auth/v1/mfa/verify",               Access::api_key,       RateClass::mfa,    kPasskeyBody , kProject, kGoTrue,    kWorkers, verify_sign_in, nullptr},
  {"factors.enroll",   "POST",  "/auth/v1/factors",                  Access::project_user,  RateClass::mfa,    kAuthJsonBody, kProject, kGoTrue,    kWorkers, nullptr,        served_to<ProjectUser, enroll_factor>},
  {"factors.challenge","POST",  "/auth/v1/factors/{id}/challenge",   Access::project_user,  RateClass::mfa,    kAuthJsonBody, kProject, kGoTrue,    kWorkers, nullptr,        served_to<ProjectUser, challenge_factor>},
  {"factors.verify",   "POST",  "/auth/v1/factors/{id}/verify",      Access::project_user,  RateClass::mfa,    kPasskeyBody , kProject, kGoTrue,    kWorkers, nullptr,        served_to<ProjectUser, verify_factor>},
  {"factors.unenroll", "DELETE","/auth/v1/factors/{id}",             Access::project_user,  RateClass::mfa,    kNoBody,       kProject, kGoTrue,    kWorkers, nullptr,        served_to<ProjectUser, unenroll_factor>},
  {"factors.recovery_codes.regenerate", "POST", "/auth/v1/factors/recovery_codes/regenerate", Access::project_user_aal2, RateClass::mfa, kAuthJsonBody, kProject, kGoTrue, kWorkers, nullptr, served_to<ProjectUser, regenerate_recovery_codes>},
  {"passkeys.registration.options",   "POST", "/auth/v1/passkeys/registration/options",   Access::project_user, RateClass::mfa,   kAuthJsonBody, kProject, kGoTrue, kWorkers, nullptr, served_to<ProjectUser, passkey_registration_options>},
  {"passkeys.registration.verify",    "POST", "/auth/v1/passkeys/registration/verify",    Access::project_user, RateClass::mfa,   kPasskeyBody,  kProject, kGoTrue, kWorkers, nullptr, served_to<ProjectUser, passkey_registration_verify>},
  {"passkeys.authentication.options", "POST", "/auth/v1/passkeys/authentication/options", Access::api_key,      RateClass::token, kAuthJsonBody, kProject, kGoTrue, kWorkers, passkey_authentication_options, nullptr},
  {"passkeys.authentication.verify",  "POST", "/auth/v1/passkeys/authentication/verify",  Access::api_key,      RateClass::token, kPasskeyBody,  kProject, kGoTrue, kWorkers, passkey_authentication_verify,  nullptr},
  {"passkeys.list",    "GET",    "/auth/v1/passkeys",           Access::project_user, RateClass::none, kNoBody,       kProject, kGoTrue, kWorkers, nullptr, served_to<ProjectUser, list_passkeys>},
  {"passkeys.rename",  "PATCH",  "/auth/v1/passkeys/{id}",      Access::project_user, RateClass::mfa,  kAuthJsonBody, kProject, kGoTrue, kWorkers, nullptr, served_to<ProjectUser, rename_passkey>},
  {"passkeys.revoke",  "DELETE", "/auth/v1/passkeys/{id}",      Access::project_user, RateClass::mfa,  kNoBody,       kProject, kGoTrue, kWorkers, nullptr, served_to<ProjectUser, revoke_passkey>},
  {"assetlinks",       "GET",    "/.well-known/assetlinks.json",             Access::none, RateClass::none, kNoBody, kProject, kGoTrue, kWorkers, assetlinks, nullptr},
  {"apple_app_site_association", "GET", "/.well-known/apple-app-site-association", Access::none, RateClass::none, kNoBody, kProject, kGoTrue, kWorkers, apple_app_site_association, nullptr},
  {"settings",       "GET",     "/auth/v1/settings",                Access::api_key,       RateClass::none,   kNoBody,       kProject, kGoTrue,    kWorkers, settings,        nullptr},
  {"jwks",           "GET",     "/auth/v1/.well-known/jwks.json",   Access::none,          RateClass::none,   kNoBody,       kProject, kGoTrue,    kWorkers, jwks,            nullptr},
  {"health",         "GET",     "/auth/v1/health",                  Access::none,          RateClass::none,   kNoBody,       kProject, kGoTrue,    kWorkers, project_health,  nullptr},
  {"auth.preflight", "OPTIONS", "/auth/v1/*",                       Access::none,          RateClass::none,   kNoBody,       kProject, kGoTrue,    kWorkers, preflight,       nullptr},
  {"rest.rpc",       "POST",    "/rest/v1/rpc/{function}",          Access::api_key,       RateClass::none,   0x10000,       kProject, kPostgrest, kWorkers, rpc,             nullptr},
  {"rest.preflight", "OPTIONS", "/rest/v1/*",                       Access::none,          RateClass::none,   kNoBody,       kProject, kPostgrest, kWorkers, preflight,       nullptr},
};
// clang-format on

// "/projects/<ref>/..." -> "<ref>"
std::string ref_of(const std::string& path) {
  const std::size_t start = std::string("/projects/").size();
  return path.substr(start, path.find('/', start) - start);
}

// The adapter: resolves the project, checks the key, enforces the row.
Handler adapt(AuthServices& s, const RouteSpec& row) {
  return [&s, &row](const Request& req) {
    std::shared_ptr<const Project> project;
    Response r = answer_errors(s, row, req, [&] {
      project = s.projects.find(ref_of(req.path));
      if (!project) {
        throw ApiError(404, "project_not_found", "No project with this ref");
      }
      const ApiKeyKind key = s.projects.classify_api_key(*project, api_key_of(req));
      if (row.access != Access::none && key == ApiKeyKind::none) {  // GoTrue wants the key on user routes too
        throw ApiError(401, "no_api_key",
                       api_key_of(req).empty() ? "No API key found in request" : "Invalid API key");
      }
      return run_route(s, row, RealmCall{req, *project, key, project.get()});
    });
    if (project && row.cors == CorsPolicy::project_origins) {
      add_cors(req, project->settings, r);
    }
    return r;
  };
}

}  // namespace

std::span<const RouteSpec> project_route_specs() { return kRoutes; }

void register_project_routes(RouteTable& routes, AuthServices& s) {
  add_route_table(routes, Surface::project, "/projects/{ref}", kRoutes, [&s](const RouteSpec& row) { return adapt(s, row); });
}

}  // namespace orbitnest::authd
