// TOTP factors for every realm, in GoTrue's /factors shapes (auth-js's
// mfa.enroll / challenge / verify / unenroll): the seed is made and sealed
// by keyd, shown once, and every code is checked by keyd at keyd's clock;
// a time step once accepted is refused for that factor (GoTrue accepts a
// replay within the window; we do not).
#include "authd/api/api_error.h"
#include "authd/api/json_body.h"
#include "authd/flows/auth_api.h"
#include "authd/flows/cors.h"
#include "authd/mfa/qr_svg.h"
#include "authd/mfa/recovery_codes.h"
#include "authd/security/random.h"
#include "authd/security/rate_limiter.h"
#include "authd/stores/factor_store.h"
#include "authd/stores/recovery_code_store.h"
#include "authd/stores/session_store.h"
#include "authd/stores/sign_in_challenge_store.h"
#include "authd/stores/user_store.h"

namespace orbitnest::authd {
namespace {

// Wrong codes an hour: per factor, and per user across their factors.
constexpr int kWrongCodesPerFactor = 10;
constexpr int kWrongCodesPerUser = 20;
constexpr std::size_t kMaxNameBytes = 128;

// "/.../factors/<id>[/challenge|/verify]" -> "<id>"
std::string factor_id_of(const Request& req) {
  const std::string& path = req.path;
  const std::size_t at = path.find("/factors/");
  const std::size_t start = at + std::string("/factors/").size();
  return path.substr(start, path.find('/', start) - start);
}

[[noreturn]] void factor_not_found() { throw ApiError(404, "mfa_factor_not_found", "Factor not found"); }

void refuse_anonymous(const SignedIn& a) {
  if (a.user.is_anonymous) {
    throw ApiError(403, "no_authorization", "Anonymous users cannot use MFA");
  }
}

std::string bounded_text(const JsonBody& body, const char* field, const std::string& fallback) {
  const std::string value = body.string(field).value_or(fallback);
  if (value.size() > kMaxNameBytes || value.find('\0') != std::string::npos) {
    throw ApiError(400, "validation_failed", std::string(field) + " is longer than 128 bytes");
  }
  return value;
}

// The otpauth URI's secret parameter (keyd put it there; authd shows it once).
std::string secret_of(const std::string& uri) {
  const std::size_t at = uri.find("secret=");
  if (at == std::string::npos) {
    return "";
  }
  const std::size_t start = at + 7;
  return uri.substr(start, uri.find('&', start) - start);
}

std::string default_issuer(const Realm& realm) {
  if (realm.kind == RealmKind::admin) {
    return "OrbitNest admin";
  }
  const std::string origin = origin_of(realm.settings.site_url);
  const std::size_t scheme = origin.find("://");
  return scheme == std::string::npos ? origin : origin.substr(scheme + 3);
}

// The budgets a wrong code counts against: each factor it was tried on,
// and the user's across their factors. Never a key wider than one user.
std::string factor_key(const RealmCall& c, const std::string& factor_id) {
  return "mfafail:" + c.realm.limit_scope() + ":factor:" + factor_id;
}
std::string user_key(const RealmCall& c, const std::string& user_id) {
  return "mfafail:" + c.realm.limit_scope() + ":user:" + user_id;
}

void refuse_if_too_many_wrong_codes(pqxx::transaction_base& q, const RealmCall& c, const std::string& user_id,
                                    const std::vector<std::string>& factor_ids) {
  bool reached = rate_limit_reached(q, user_key(c, user_id), kWrongCodesPerUser, 3600);
  for (const std::string& factor : factor_ids) {
    reached = reached || rate_limit_reached(q, factor_key(c, factor), kWrongCodesPerFactor, 3600);
  }
  if (reached) {
    ApiError e(429, "over_request_rate_limit", "Too many wrong codes; try again later");
    e.retry_after = 900;
    throw e;
  }
}

[[noreturn]] void wrong_code(pqxx::connection& conn, const RealmCall& c, const std::string& user_id,
                             const std::vector<std::string>& factor_ids) {
  std::vector<std::pair<std::string, int>> hits{{user_key(c, user_id), 1}};
  for (const std::string& factor : factor_ids) {
    hits.emplace_back(factor_key(c, factor), 1);
  }
  add_hits(conn, hits, 3600);
  throw ApiError(422, "mfa_verification_failed", "Invalid TOTP code entered");
}

// What keyd binds a factor's sealed seed to: a blob moved to another
// factor, user or realm does not open.
std::string seed_binding(const RealmCall& c, const std::string& user_id, const std::string& factor_id) {
  return c.realm.limit_scope() + '\0' + user_id + '\0' + factor_id;
}

// True when `code` is `factor`'s TOTP code (keyd checks it at its clock)
// for a time step newer than any accepted before, which is then recorded.
bool accept_totp(AuthServices& s, pqxx::transaction_base& tx, const RealmCall& c, const std::string& user_id,
                 const FactorRow& factor, const std::string& code) {
  const keyd::TotpVerifyAnswer checked = s.keyd.client().totp_verify(
      factor.sealed_secret, seed_binding(c, user_id, factor.id), code, factor.last_used_step);
  return checked.ok && FactorStore(c.realm).accept_step(tx, factor.id, checked.step);
}

}  // namespace

Response enroll_factor(AuthServices& s, const RealmCall& c, const SignedIn& a) {
  refuse_anonymous(a);
  const JsonBody body = JsonBody::parse(c.req);
  const std::string type = body.required_string("factor_type");
  if (type == "phone" || type == "webauthn") {
    throw ApiError(422, "mfa_" + type + "_enroll_not_enabled", "MFA enrollment of " + type + " factors is not enabled");
  }
  if (type != "totp") {
    throw ApiError(400, "validation_failed", "factor_type must be totp");
  }
  const std::string name = bounded_text(body, "friendly_name", "");
  const std::string issuer = bounded_text(body, "issuer", default_issuer(c.realm));
  const std::string id = uuid_v4();
  const FactorStore factors(c.realm);
  PgPool::Lease conn = s.pg.lease();
  pqxx::work tx(*conn);
  UserStore(c.realm).lock(tx, a.user.id);  // enrollments of one user, one at a time (count, names)
  factors.purge_stale_unverified(tx, a.user.id);
  if (a.user.has_verified_factor() && a.aal() != "aal2") {
    throw ApiError(403, "insufficient_aal", "AAL2 required to enroll a new factor");
  }
  if (factors.count(tx, a.user.id) >= kMaxFactorsPerUser) {
    throw ApiError(422, "too_many_enrolled_mfa_factors", "Maximum number of enrolled factors reached");
  }
  if (!name.empty() && factors.name_taken(tx, a.user.id, name)) {
    throw ApiError(422, "mfa_factor_name_conflict",
                   "A factor with the friendly name \"" + name + "\" for this user already exists");
  }
  // The seed is bound to this factor's id: keyd refuses it for another.
  const keyd::TotpEnrollAnswer enrolled =
      s.keyd.client().totp_enroll(seed_binding(c, a.user.id, id), issuer, a.user.email);
  factors.create(tx, id, a.user.id, "totp", name, enrolled.sealed_seed);
  tx.commit();
  return json_response(200, boost::json::object{{"id", id},
                                                {"type", "totp"},
                                                {"friendly_name", name},
                                                {"totp", boost::json::object{{"qr_code", qr_svg(enrolled.otpauth_uri)},
                                                                             {"secret", secret_of(enrolled.otpauth_uri)},
                                                                             {"uri", enrolled.otpauth_uri}}}});
}

Response challenge_factor(AuthServices& s, const RealmCall& c, const SignedIn& a) {
  refuse_anonymous(a);
  const FactorStore factors(c.realm);
  PgPool::Lease conn = s.pg.lease();
  pqxx::work tx(*conn);
  const std::optional<FactorRow> factor = factors.find(tx, a.user.id, factor_id_of(c.req));
  if (!factor) {
    factor_not_found();
  }
  const std::string id = factors.create_challenge(tx, factor->id, c.req.remote_address);
  tx.commit();
  return json_response(200, boost::json::object{{"id", id},
                                                {"type", factor->factor_type},
                                                {"expires_at", unix_now() + kChallengeSeconds}});
}

Response verify_factor(AuthServices& s, const RealmCall& c, const SignedIn& a) {
  refuse_anonymous(a);
  const JsonBody body = JsonBody::parse(c.req);
  const std::string challenge_id = body.required_string("challenge_id");
  const std::string code = body.required_string("code");
  const FactorStore factors(c.realm);
  PgPool::Lease conn = s.pg.lease();
  pqxx::work tx(*conn);
  UserStore(c.realm).lock(tx, a.user.id);  // one verification of a user at a time (first factor, recovery codes)
  const std::optional<FactorRow> factor = factors.find(tx, a.user.id, factor_id_of(c.req), /*lock=*/true);
  if (!factor) {
    factor_not_found();
  }
  refuse_if_too_many_wrong_codes(tx, c, a.user.id, {factor->id});
  const std::optional<ChallengeRow> challenge = factors.find_challenge(tx, factor->id, challenge_id);
  if (!challenge || challenge->verified) {
    throw ApiError(422, "mfa_factor_not_found", "MFA factor with the provided challenge ID not found");
  }
  if (challenge->ip != c.req.remote_address) {
    throw ApiError(422, "mfa_ip_address_mismatch",
                   "Challenge and verify IP addresses mismatch. Try enrollment again.");
  }
  if (challenge->expired) {
    factors.remove_challenge(tx, challenge->id);
    tx.commit();
    throw ApiError(422, "mfa_challenge_expired",
                   "MFA challenge " + challenge->id +
                       " has expired, verify against another challenge or create a new challenge.");
  }
  // A recovery code works in place of a TOTP code once the factor is
  // verified (a lost phone): spent, and the method says so.
  const bool recovery = factor->status == "verified" && looks_like_recovery_code(code);
  if (recovery) {
    if (!spend_recovery_code(s.keyd, tx, c.realm, a.user.id, code)) {
      tx.abort();
      wrong_code(*conn, c, a.user.id, {factor->id});
    }
  } else if (!accept_totp(s, tx, c, a.user.id, *factor, code)) {
    tx.abort();
    wrong_code(*conn, c, a.user.id, {factor->id});
  }
  factors.finish_challenge(tx, challenge->id);
  factors.remove_other_unverified(tx, a.user.id, factor->id, factor->factor_type);
  // The user's first verified factor: ten recovery codes, shown once.
  std::vector<std::string> recovery_codes;
  if (!a.user.has_verified_factor()) {
    recovery_codes = issue_recovery_codes(s.keyd, tx, c.realm, a.user.id);
  }
  boost::json::object response =
      raise_session(s, c, tx, a, recovery ? "" : factor->id, recovery ? "mfa/recovery_code" : "totp");
  if (!recovery_codes.empty()) {
    response["recovery_codes"] = boost::json::value_from(recovery_codes);  // OrbitNest extension, shown once
  }
  return json_response(200, response);
}

Response regenerate_recovery_codes(AuthServices& s, const RealmCall& c, const SignedIn& a) {
  refuse_anonymous(a);
  if (!a.user.has_verified_factor()) {
    throw ApiError(422, "mfa_factor_not_found", "Recovery codes need a verified factor first");
  }
  PgPool::Lease conn = s.pg.lease();
  pqxx::work tx(*conn);
  const std::vector<std::string> codes = issue_recovery_codes(s.keyd, tx, c.realm, a.user.id);
  tx.commit();
  return json_response(200, boost::json::object{{"recovery_codes", boost::json::value_from(codes)}});
}

Response unenroll_factor(AuthServices& s, const RealmCall& c, const SignedIn& a) {
  refuse_anonymous(a);
  const FactorStore factors(c.realm);
  PgPool::Lease conn = s.pg.lease();
  pqxx::work tx(*conn);
  const std::optional<FactorRow> factor = factors.find(tx, a.user.id, factor_id_of(c.req), /*lock=*/true);
  if (!factor) {
    factor_not_found();
  }
  if (factor->status == "verified" && a.aal() != "aal2") {
    throw ApiError(422, "insufficient_aal", "AAL2 required to unenroll verified factor");
  }
  factors.remove(tx, factor->id);
  SessionStore(c.realm).lower_raised_by(tx, factor->id, "totp");
  if (factors.verified(tx, a.user.id).empty()) {
    RecoveryCodeStore(c.realm).remove_all(tx, a.user.id);  // nothing left for them to stand in for
  }
  tx.commit();
  return json_response(200, boost::json::object{{"id", factor->id}});
}

Response verify_sign_in(AuthServices& s, const RealmCall& c) {
  const JsonBody body = JsonBody::parse(c.req);
  const std::string token = body.required_string("challenge_token");
  const std::string code = body.required_string("code");
  const std::optional<std::string> only_factor = body.string("factor_id");
  const SignInChallengeStore challenges(c.realm);
  PgPool::Lease conn = s.pg.lease();
  pqxx::work tx(*conn);
  const std::optional<SignInChallengeRow> challenge = challenges.lock(tx, token);
  if (!challenge) {
    throw ApiError(422, "mfa_challenge_expired", "The challenge token is invalid, used or expired; sign in again");
  }
  if (challenge->expired) {
    challenges.remove(tx, token);
    tx.commit();
    throw ApiError(422, "mfa_challenge_expired", "The challenge token is invalid, used or expired; sign in again");
  }
  if (challenge->ip != c.req.remote_address) {
    throw ApiError(422, "mfa_ip_address_mismatch", "The challenge token belongs to another client address");
  }
  const FactorStore factors(c.realm);
  std::vector<FactorRow> candidates;
  std::vector<std::string> tried;
  for (FactorRow& factor : factors.verified(tx, challenge->user_id)) {
    if (factor.factor_type == "totp" && (!only_factor || *only_factor == factor.id)) {
      tried.push_back(factor.id);
      candidates.push_back(std::move(factor));
    }
  }
  refuse_if_too_many_wrong_codes(tx, c, challenge->user_id, tried);
  std::optional<FactorRow> matched;
  const bool recovery = looks_like_recovery_code(code);
  if (recovery && spend_recovery_code(s.keyd, tx, c.realm, challenge->user_id, code)) {
    matched = FactorRow{};  // no factor raised it: the recovery code did
  }
  for (const FactorRow& factor : recovery ? std::vector<FactorRow>{} : candidates) {
    if (accept_totp(s, tx, c, challenge->user_id, factor, code)) {
      matched = factor;
      break;
    }
  }
  if (!matched) {
    // Counted in the challenge (5 and it dies) and in the user's budget.
    if (challenges.count_wrong_code(tx, token) >= kSignInChallengeAttempts) {
      challenges.remove(tx, token);
    }
    tx.commit();
    wrong_code(*conn, c, challenge->user_id, tried);
  }
  challenges.remove(tx, token);
  const UserStore users(c.realm);
  const std::optional<UserRecord> user = users.find_by_id(tx, challenge->user_id);
  if (!user) {
    throw ApiError(422, "mfa_challenge_expired", "The challenge token is invalid, used or expired; sign in again");
  }
  refuse_banned(*user, 400);
  const NewSession session = s.sessions.create_session(tx, c.realm, user->id, challenge->first_method,
                                                       challenge->user_agent, c.req.remote_address);
  const SessionStore sessions(c.realm);
  sessions.raise_to_aal2(tx, session.session_id, matched->id, recovery ? "mfa/recovery_code" : "totp");
  if (!challenge->passkey_id.empty()) {
    sessions.link_passkey(tx, session.session_id, challenge->passkey_id);  // ends with the passkey
  }
  return answer_session(s, c, tx, user->id, session);
}

}  // namespace orbitnest::authd
