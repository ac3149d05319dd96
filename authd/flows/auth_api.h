#pragma once
// The flows of every realm: the project API (/projects/{ref}/auth/v1/...),
// wire-compatible with Supabase Auth (GoTrue) where the flows overlap, and
// the admin API (/admin/v1/...) — one implementation per flow, handed the
// realm of the call. The route tables (project_routes.h, admin_routes.h)
// say who may call each one.
#include <functional>
#include <string>
#include <vector>

#include "authd/api/json_body.h"
#include "authd/db/pg_pool.h"
#include "authd/flows/email_links.h"
#include "authd/stores/one_time_codes.h"
#include "authd/flows/session_issuer.h"
#include "authd/flows/user_record.h"
#include "authd/http/route_table.h"
#include "authd/mail/outbox_mailer.h"
#include "authd/projects/project_store.h"
#include "authd/rest/rpc_pool.h"
#include "authd/security/password_hasher.h"
#include "authd/security/shared_rate_limiter.h"
#include "authd/tokens/access_token_verifier.h"
#include "authd/tokens/principal.h"

namespace orbitnest::authd {

class Metrics;

class SocialProviders;

struct AuthServices {
  PgPool& pg;
  KeydLink& keyd;
  JwksCache& jwks;
  ProjectStore& projects;
  PasswordHasher& passwords;
  OutboxMailer& mailer;
  SharedRateLimiter& ip_limits;
  AccessTokenVerifier verifier;
  OneTimeCodes codes;
  SessionIssuer sessions;
  // Health of keyd and Postgres, for the project-scoped health route.
  std::function<Response()> health;
  // POST /rest/v1/rpc/{function}: its own connections and login role.
  RpcPool& rpc;
  // The admins' user system (authd.yaml's admin section).
  const Realm& admin_realm;
  // Counters for /metrics (ops/metrics.h); null where nothing is served.
  Metrics* metrics = nullptr;
  // The admins' social sign-in providers (admin.oauth); null or empty: none.
  SocialProviders* social = nullptr;
};

// One request to one realm's API.
struct RealmCall {
  const Request& req;
  const Realm& realm;
  ApiKeyKind key;                    // the project API's key; none on the admin API
  const Project* project_ = nullptr; // set on the project API

  // The project of a project-only flow; throws std::logic_error elsewhere
  // (a route table wiring such a flow to another realm is a bug).
  const Project& project() const;
};

void register_auth_routes(RouteTable& routes, AuthServices& s);

// Helpers the flows share.
Response json_response(int status, const boost::json::value& body);
std::int64_t unix_now();
// The request's API key: the apikey header, else the apikey query parameter.
std::string api_key_of(const Request& req);
// Throws ApiError 429 when the caller's IP used up this endpoint class
// (counted in memory, shared through Postgres: SharedRateLimiter).
void limit_ip(AuthServices& s, const RealmCall& c, std::string_view endpoint_class);
// Wrong passwords, sign-ins and a password change's current_password
// counted together (the same guess, the same budget), per hour: from one
// client network at most kPasswordFailuresPerNetwork for an account, from
// everywhere at most kPasswordFailuresPerAccount. Past either, 429. The
// first stops a guesser without locking the owner out from elsewhere; the
// second bounds a guesser spread over many networks.
inline constexpr int kPasswordFailuresPerNetwork = 20;
inline constexpr int kPasswordFailuresPerAccount = 100;
// The account's budget keys (per network, per account), for `authd admin unlock`.
struct PasswordFailureKeys {
  std::string network;
  std::string account;
};
PasswordFailureKeys password_failure_keys(const RealmCall& c, const std::string& email);
std::string password_failure_account_prefix(const Realm& realm, const std::string& email);
// Throws ApiError 429 when the account has used up its wrong passwords;
// count_password_failure() counts one (in a statement of its own).
void refuse_if_password_failures_reached(pqxx::transaction_base& q, const RealmCall& c, const std::string& email);
void count_password_failure(pqxx::connection& conn, const RealmCall& c, const std::string& email);
// Throws ApiError 422 weak_password unless `password` meets the policy.
void check_password_policy(const Realm& realm, const std::string& password);

// The signed-in caller of the call's realm (principal.h): 401
// no_authorization, 403 bad_jwt (a token of another realm, project or
// audience among them), 403 session_not_found, 403 user_banned.
SignedIn authenticate(AuthServices& s, pqxx::transaction_base& tx, const RealmCall& c);

// PUT /user with a password: throws 400 reauthentication_needed, 400
// current_password_invalid or 422 reauthentication_not_valid unless the
// request proves the user (project setting secure_password_change).
void require_reauthentication(AuthServices& s, pqxx::connection& conn, const RealmCall& c, const SignedIn& a,
                              const JsonBody& body);

// Flow handlers (email_flows.cpp, token_flows.cpp, user_flows.cpp).
Response signup(AuthServices& s, const RealmCall& c);
Response otp(AuthServices& s, const RealmCall& c);
Response resend(AuthServices& s, const RealmCall& c);
Response recover(AuthServices& s, const RealmCall& c);
Response verify(AuthServices& s, const RealmCall& c);
Response token(AuthServices& s, const RealmCall& c);
Response get_user(AuthServices& s, const RealmCall& c, const SignedIn& a);
Response put_user(AuthServices& s, const RealmCall& c, const SignedIn& a);
// GET /reauthenticate: mails the signed-in user a code to send as `nonce`
// with a password change (PUT /user).
Response reauthenticate(AuthServices& s, const RealmCall& c, const SignedIn& a);
// PUT /user with a new email: stores it as pending and mails a code to it
// (and, with secure_email_change, one to the current address). Throws
// ApiError 422 email_exists, or 429 from the send limits.
void request_email_change(AuthServices& s, pqxx::connection& conn, const Project& p, const UserRecord& user,
                          const std::string& new_email, const EmailLink& link);
// After a code or link of `kind` for `email` was consumed in `tx` (/verify,
// or the PKCE exchange): what verifying it means (the user made from the
// pending sign-up, the address confirmed, a password set, one side of an
// email change) and the answer, a session or email change's interim one.
Response complete_verification(AuthServices& s, const RealmCall& c, pqxx::work& tx, const std::string& kind,
                               const std::string& email, const std::optional<PasswordHash>& hash);
Response logout(AuthServices& s, const RealmCall& c, const SignedIn& a);
// SMS sign-in (phone_flows.cpp): POST /otp with a phone, POST /verify with
// type sms. 400 phone_provider_disabled without Twilio (debug mode aside).
Response phone_otp(AuthServices& s, const RealmCall& c, const JsonBody& body);
Response phone_verify(AuthServices& s, const RealmCall& c, const JsonBody& body);
// Ends a first factor (sign_in.cpp): commits `tx` with a new session and
// answers it, or — mfa_sign_in "challenge" and a verified factor — with a
// challenge token and no session: {mfa_required, challenge_token,
// expires_at, factors}.
// A passkey sign-in names its passkey: revoking it ends the session.
Response finish_sign_in(AuthServices& s, const RealmCall& c, pqxx::work& tx, const UserRecord& user,
                        const std::string& method, const std::string& user_agent, const std::string& passkey_id = "");
// Commits `tx` and answers `session` (just created for `user_id`).
Response answer_session(AuthServices& s, const RealmCall& c, pqxx::work& tx, const std::string& user_id,
                        const NewSession& session);
// A second factor proved on the caller's own session: raises it to aal2
// by `method` (factor_id may be ""), gives it a new refresh token, ends
// the user's other sessions below aal2, commits `tx`; the session answer.
boost::json::object raise_session(AuthServices& s, const RealmCall& c, pqxx::work& tx, const SignedIn& a,
                                  const std::string& factor_id, const std::string& method);
// The request's User-Agent, "" when absent.
std::string user_agent_of(const Request& req);
// POST /mfa/verify {challenge_token, code, factor_id?}: the second factor
// of a challenged sign-in → an aal2 session (mfa_flows.cpp).
Response verify_sign_in(AuthServices& s, const RealmCall& c);
// TOTP factors (mfa_flows.cpp), GoTrue's /factors shapes: POST /factors,
// POST /factors/{id}/challenge, POST /factors/{id}/verify, DELETE /factors/{id}.
Response enroll_factor(AuthServices& s, const RealmCall& c, const SignedIn& a);
Response challenge_factor(AuthServices& s, const RealmCall& c, const SignedIn& a);
Response verify_factor(AuthServices& s, const RealmCall& c, const SignedIn& a);
Response unenroll_factor(AuthServices& s, const RealmCall& c, const SignedIn& a);
// POST /factors/recovery_codes/regenerate (aal2): ten new recovery codes
// replace the old set, shown once.
Response regenerate_recovery_codes(AuthServices& s, const RealmCall& c, const SignedIn& a);
// GET .../sessions and DELETE .../sessions/{id}: the caller's own sessions.
Response list_sessions(AuthServices& s, const RealmCall& c, const SignedIn& a);
Response revoke_session(AuthServices& s, const RealmCall& c, const SignedIn& a);
// Passkeys (passkey_flows.cpp): registration and sign-in ceremonies in
// the W3C PublicKeyCredential JSON forms, and the user's own passkeys.
Response passkey_registration_options(AuthServices& s, const RealmCall& c, const SignedIn& a);
Response passkey_registration_verify(AuthServices& s, const RealmCall& c, const SignedIn& a);
Response passkey_authentication_options(AuthServices& s, const RealmCall& c);
Response passkey_authentication_verify(AuthServices& s, const RealmCall& c);
Response list_passkeys(AuthServices& s, const RealmCall& c, const SignedIn& a);
Response rename_passkey(AuthServices& s, const RealmCall& c, const SignedIn& a);
Response revoke_passkey(AuthServices& s, const RealmCall& c, const SignedIn& a);
// /.well-known/assetlinks.json and apple-app-site-association, from the
// realm's passkey settings (passkey_well_known.cpp).
Response assetlinks(AuthServices& s, const RealmCall& c);
Response apple_app_site_association(AuthServices& s, const RealmCall& c);
Response settings(AuthServices& s, const RealmCall& c);
Response jwks(AuthServices& s, const RealmCall& c);

}  // namespace orbitnest::authd
