#include "authd/flows/auth_api.h"

#include <chrono>
#include <stdexcept>

#include "authd/api/api_error.h"
#include "authd/api/json_body.h"
#include "authd/flows/project_routes.h"
#include "authd/security/rate_limiter.h"
#include "authd/stores/session_store.h"
#include "authd/stores/user_store.h"

namespace orbitnest::authd {
std::string api_key_of(const Request& req) {
  const auto it = req.headers.find("apikey");
  if (it != req.headers.end()) {
    return it->second;
  }
  return query_param(req, "apikey").value_or("");
}

Response json_response(int status, const boost::json::value& body) {
  Response r;
  r.status = status;
  r.body = boost::json::serialize(body);
  return r;
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void limit_ip(AuthServices& s, const RealmCall& c, std::string_view endpoint_class) {
  const std::string& client = c.req.remote_network.empty() ? c.req.remote_address : c.req.remote_network;
  s.ip_limits.hit("ip:" + std::string(endpoint_class) + ":" + c.realm.limit_scope() + ":" + client,
                  c.realm.settings.ip_requests_per_hour, 3600, "over_request_rate_limit", "Request rate limit reached");
}

namespace {

const std::string& client_network(const Request& req) {
  return req.remote_network.empty() ? req.remote_address : req.remote_network;
}

}  // namespace

std::string password_failure_account_prefix(const Realm& realm, const std::string& email) {
  return "pwfail:" + realm.limit_scope() + ":" + email;
}

PasswordFailureKeys password_failure_keys(const RealmCall& c, const std::string& email) {
  const std::string account = password_failure_account_prefix(c.realm, email);
  return PasswordFailureKeys{account + "@" + client_network(c.req), account};
}

void refuse_if_password_failures_reached(pqxx::transaction_base& q, const RealmCall& c, const std::string& email) {
  const PasswordFailureKeys keys = password_failure_keys(c, email);
  if (rate_limit_reached(q, keys.network, kPasswordFailuresPerNetwork, 3600) ||
      rate_limit_reached(q, keys.account, kPasswordFailuresPerAccount, 3600)) {
    ApiError e(429, "over_request_rate_limit", "Too many failed sign-ins for this account; try again later");
    e.retry_after = 900;
    throw e;
  }
}

void count_password_failure(pqxx::connection& conn, const RealmCall& c, const std::string& email) {
  // Counted, not checked: the answer stays "wrong password"; the next try
  // is refused up front.
  const PasswordFailureKeys keys = password_failure_keys(c, email);
  add_hits(conn, {{keys.network, 1}, {keys.account, 1}}, 3600);
}

void check_password_policy(const Realm& realm, const std::string& password) {
  boost::json::array reasons;
  if (static_cast<int>(password.size()) < realm.settings.password_min_length) {
    reasons.push_back("length");
  }
  if (realm.settings.password_require_mixed) {
    bool lower = false, upper = false, digit = false;
    for (const char ch : password) {
      lower = lower || (ch >= 'a' && ch <= 'z');
      upper = upper || (ch >= 'A' && ch <= 'Z');
      digit = digit || (ch >= '0' && ch <= '9');
    }
    if (!(lower && upper && digit)) {
      reasons.push_back("characters");
    }
  }
  if (password.size() > 1024) {
    throw ApiError(400, "validation_failed", "Password is longer than 1024 bytes");
  }
  if (!reasons.empty()) {
    std::string message = "Password should be at least " + std::to_string(realm.settings.password_min_length) +
                          " characters" +
                          (realm.settings.password_require_mixed ? " and contain lower, upper case and digits." : ".");
    ApiError e(422, "weak_password", message);
    e.extra["weak_password"] = boost::json::object{{"message", message}, {"reasons", reasons}};
    throw e;
  }
}

const Project& RealmCall::project() const {
  if (project_ == nullptr) {
    throw std::logic_error("a project-only flow was called for realm " + realm.name());
  }
  return *project_;
}

SignedIn authenticate(AuthServices& s, pqxx::transaction_base& tx, const RealmCall& c) {
  const std::optional<std::string> bearer = bearer_token(c.req);
  if (!bearer) {
    throw ApiError(401, "no_authorization", "This endpoint requires a valid Bearer token");
  }
  // The realm's keyring, issuer and audience: a token of another realm or
  // project fails here (403 bad_jwt), whatever its claims say.
  SignedIn who{s.verifier.verify(*bearer, c.realm.keyring, c.realm.issuer, c.realm.audience, unix_now()), {}};
  if (who.token.role != c.realm.role) {
    throw ApiError(403, "bad_jwt", "invalid JWT: this endpoint takes a signed-in user's token");
  }
  if (!is_uuid(who.token.user_id) || !is_uuid(who.token.session_id)) {
    throw ApiError(403, "bad_jwt", "invalid JWT: sub and session_id must be UUIDs");
  }
  // One round trip: the user, if the session still exists (sessions go with
  // their user, so no row means the session is gone).
  std::optional<UserStore::SignedInRow> row =
      UserStore(c.realm).find_signed_in(tx, who.token.user_id, who.token.session_id);
  if (!row) {
    throw ApiError(403, "session_not_found", "Session from session_id claim in JWT does not exist");
  }
  who.user = std::move(row->user);
  who.session_aal = row->session_aal;
  refuse_banned(who.user);
  // In the challenge mode a user with a verified factor acts only from an
  // aal2 session (one left over from before, or lowered, cannot).
  if (below_required_aal(c.realm, who.user, who.aal())) {
    throw ApiError(403, "insufficient_aal", "This session needs its second factor: sign in again");
  }
  return who;
}

void register_auth_routes(RouteTable& routes, AuthServices& s) {
  UserStore::prepare_statements(s.pg);
  SessionStore::prepare_statements(s.pg);
  prepare_rate_limiter(s.pg);
  register_project_routes(routes, s);
}

}  // namespace orbitnest::authd
