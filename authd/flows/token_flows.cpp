// POST /token: the password and refresh-token grants (every realm) and the
// PKCE grant (projects: it completes an email link).
#include "authd/admin/social_sign_in.h"
#include "authd/api/api_error.h"
#include "authd/api/json_body.h"
#include "authd/flows/auth_api.h"
#include "authd/flows/email_address.h"
#include "authd/security/rate_limiter.h"
#include "authd/stores/user_store.h"

namespace orbitnest::authd {
namespace {

[[noreturn]] void invalid_credentials() {
  throw ApiError(400, "invalid_credentials", "Invalid login credentials");
}

Response password_grant(AuthServices& s, const RealmCall& c, const JsonBody& body) {
  if (body.string("phone")) {
    throw ApiError(400, "phone_provider_disabled", "Phone sign-in is not enabled for this project");
  }
  const std::optional<std::string> raw_email = body.string("email");
  const std::optional<std::string> password = body.string("password");
  if (!raw_email || !password) {
    throw ApiError(400, "validation_failed", "An email address and a password are required");
  }
  const std::string email = canonical_email(*raw_email);
  s.passwords.admit();  // a flood is refused before it costs keyd and Postgres anything
  PgPool::Lease conn = s.pg.lease();
  std::optional<UserRecord> user;
  {
    pqxx::nontransaction q(*conn);
    refuse_if_password_failures_reached(q, c, email);
    user = UserStore(c.realm).find_by_email(q, email);
  }
  bool needs_rehash = false;
  const bool ok = user && user->encrypted_password &&
                  s.passwords.verify(*password, *user->encrypted_password, user->pepper_version, &needs_rehash);
  if (!user || !user->encrypted_password) {
    s.passwords.dummy_verify(*password);  // same time whether or not the account exists
  }
  if (!ok) {
    count_password_failure(*conn, c, email);
    invalid_credentials();
  }
  refuse_banned(*user, 400);  // GoTrue: 400 user_banned, once the credentials are right
  std::optional<PasswordHash> rehash;
  if (needs_rehash) {
    rehash = s.passwords.hash(*password);  // parameters changed since this hash was made
  }
  pqxx::work tx(*conn);
  const UserStore users(c.realm);
  if (rehash) {
    users.set_password(tx, user->id, *rehash);
  }
  return finish_sign_in(s, c, tx, *user, "password", user_agent_of(c.req));
}

Response refresh_grant(AuthServices& s, const RealmCall& c, const JsonBody& body) {
  const std::optional<std::string> token = body.string("refresh_token");
  if (!token || token->empty()) {
    throw ApiError(400, "validation_failed", "refresh_token required");
  }
  PgPool::Lease conn = s.pg.lease();
  return json_response(200, s.sessions.refresh(*conn, c.realm, *token));
}

// exchangeCodeForSession(): the code an email link carried, with the
// verifier only the browser that began the flow holds.
Response pkce_grant(AuthServices& s, const RealmCall& c, const PkceExchange& exchange) {
  PgPool::Lease conn = s.pg.lease();
  pqxx::work tx(*conn);
  const OneTimeCodes::Consumed used = s.codes.consume_pkce(tx, c.project(), exchange.auth_code, exchange.code_verifier);
  return complete_verification(s, c, tx, used.kind, used.recipient, std::nullopt);
}

}  // namespace

Response token(AuthServices& s, const RealmCall& c) {
  const std::optional<std::string> grant = query_param(c.req, "grant_type");
  const JsonBody body = JsonBody::parse(c.req);
  if (grant == "password") {
    return password_grant(s, c, body);
  }
  if (grant == "refresh_token") {
    return refresh_grant(s, c, body);
  }
  if (grant == "pkce") {
    const std::optional<std::string> auth_code = body.string("auth_code");
    const std::optional<std::string> verifier = body.string("code_verifier");
    if (!auth_code || !verifier || auth_code->empty() || verifier->empty()) {
      throw ApiError(400, "validation_failed", "invalid request: both auth code and code verifier should be non-empty");
    }
    // A project's PKCE ends an email link; the admins' a social sign-in.
    const PkceExchange exchange{*auth_code, *verifier};
    return c.realm.kind == RealmKind::project ? pkce_grant(s, c, exchange) : social_code_grant(s, c, exchange);
  }
  throw ApiError(400, "validation_failed", "unsupported_grant_type: use grant_type=password, refresh_token or pkce");
}

}  // namespace orbitnest::authd
