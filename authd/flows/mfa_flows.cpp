// MFA factors for every realm, in GoTrue's /factors shapes (auth-js's
// mfa.enroll / challenge / verify / unenroll). TOTP: the seed is made and
// sealed by keyd, shown once, and every code is checked by keyd at keyd's
// clock; a time step once accepted is refused for that factor (GoTrue
// accepts a replay within the window; we do not). WebAuthn: the ceremony
// is webauthn_factor's, the credential verified as a passkey's.
#include "authd/api/api_error.h"
#include "authd/api/json_body.h"
#include "authd/flows/auth_api.h"
#include "authd/flows/cors.h"
#include "authd/mfa/qr_svg.h"
#include "authd/mfa/recovery_codes.h"
#include "authd/security/random.h"
#include "authd/security/rate_limiter.h"
#include "authd/stores/factor_store.h"
#include "authd/stores/passkey_store.h"
#include "authd/stores/recovery_code_store.h"
#include "authd/stores/session_store.h"
#include "authd/stores/sign_in_challenge_store.h"
#include "authd/stores/user_store.h"
#include "authd/flows/webauthn_factor.h"

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

// A failed verification counts against the budgets, then is answered:
// a wrong code, or the relying party's refusal of a webauthn answer.
[[noreturn]] void failed_verification(pqxx::connection& conn, const RealmCall& c, const std::string& user_id,
                                      const std::vector<std::string>& factor_ids, const ApiError& answer) {
  std::vector<std::pair<std::string, int>> hits{{user_key(c, user_id), 1}};
  for (const std::string& factor : factor_ids) {
    hits.emplace_back(factor_key(c, factor), 1);
  }
  add_hits(conn, hits, 3600);
  throw answer;
}

[[noreturn]] void wrong_code(pqxx::connection& conn, const RealmCall& c, const std::string& user_id,
                             const std::vector<std::string>& factor_ids) {
  failed_verification(conn, c, user_id, factor_ids,
                      ApiError(422, "mfa_verification_failed", "Invalid TOTP code entered"));
}

// An account with a verified second factor or a passkey takes a new
// factor only from an aal2 session (as a new passkey: passkey_flows.cpp):
// a stolen first factor must not add the thief's second one.
void require_aal2_once_protected(pqxx::transaction_base& tx, const RealmCall& c, const SignedIn& a,
                                 const std::string& what) {
  if (a.aal() != "aal2" && (a.user.has_verified_factor() || PasskeyStore(c.realm).count(tx, a.user.id) > 0)) {
    throw ApiError(403, "insufficient_aal", "AAL2 required " + what);
  }
}

// The amr method a factor's verification adds (and its unenrollment takes away).
std::string method_of(const FactorRow& factor) {
  return factor.factor_type == "webauthn" ? kWebAuthnFactorMethod : "totp";
}

// The session raised by a verified factor (or a recovery code); the
// user's first verified factor brings ten recovery codes, shown once.
boost::json::object raised_by_factor(AuthServices& s, const RealmCall& c, pqxx::work& tx, const SignedIn& a,
                                     const std::string& factor_id, const std::string& method) {
  std::vector<std::string> recovery_codes;
  if (!a.user.has_verified_factor()) {
    recovery_codes = issue_recovery_codes(s.keyd, tx, c.realm, a.user.id);
  }
  boost::json::object response = raise_session(s, c, tx, a, factor_id, method);
  if (!recovery_codes.empty()) {
    response["recovery_codes"] = boost::json::value_from(recovery_codes);  // OrbitNest extension, shown once
  }
  return response;
}

// A webauthn factor's verification. The challenge is spent whatever the
// outcome: a refused answer removes it in a transaction of its own (and
// counts against the budgets), so a ceremony serves one attempt.
boost::json::object verify_webauthn_factor(AuthServices& s, const RealmCall& c, pqxx::connection& conn,
                                           pqxx::work& tx, const SignedIn& a, const FactorRow& factor,
                                           const ChallengeRow& challenge, const JsonBody& body) {
  const FactorStore factors(c.realm);
  try {
    finish_factor_ceremony(tx, c, a.user.id, factor, challenge.webauthn_challenge, body);
  } catch (const ApiError& refused) {
    tx.abort();
    pqxx::work spend(conn);
    factors.remove_challenge(spend, challenge.id);
    spend.commit();
    failed_verification(conn, c, a.user.id, {factor.id}, refused);
  }
  factors.finish_challenge(tx, challenge.id);
  factors.remove_other_unverified(tx, a.user.id, factor.id);
  return raised_by_factor(s, c, tx, a, factor.id, kWebAuthnFactorMethod);
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
  if (type == "phone" || (type == "webauthn" && !c.realm.settings.passkey.enabled)) {
    throw ApiError(422, "mfa_" + type + "_enroll_not_enabled", "MFA enrollment of " + type + " factors is not enabled");
  }
  if (type != "totp" && type != "webauthn") {
    throw ApiError(400, "validation_failed", "factor_type must be totp or webauthn");
  }
  const std::string name = bounded_text(body, "friendly_name", "");
  const std::string issuer = bounded_text(body, "issuer", default_issuer(c.realm));
  const std::string id = uuid_v4();
  const FactorStore factors(c.realm);
  PgPool::Lease conn = s.pg.lease();
  pqxx::work tx(*conn);
  UserStore(c.realm).lock(tx, a.user.id);  // enrollments of one user, one at a time (count, names)
  factors.purge_stale_unverified(tx, a.user.id);
  require_aal2_once_protected(tx, c, a, "to enroll a new factor");
  if (factors.count(tx, a.user.id) >= kMaxFactorsPerUser) {
    throw ApiError(422, "too_many_enrolled_mfa_factors", "Maximum number of enrolled factors reached");
  }
  if (!name.empty() && factors.name_taken(tx, a.user.id, name)) {
    throw ApiError(422, "mfa_factor_name_conflict",
                   "A factor with the friendly name \"" + name + "\" for this user already exists");
  }
  if (type == "webauthn") {
    // Nothing to seal: the credential comes with the first challenge's ceremony.
    factors.create(tx, id, a.user.id, "webauthn", name, "");
    tx.commit();
    return json_response(200, boost::json::object{{"id", id}, {"type", "webauthn"}, {"friendly_name", name}});
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
  if (factor->status != "verified") {
    require_aal2_once_protected(tx, c, a, "to verify a new factor once the account has a second factor or a passkey");
  }
  if (factor->factor_type != "webauthn") {
    const std::string id = factors.create_challenge(tx, factor->id, c.req.remote_address);
    tx.commit();
    return json_response(200, boost::json::object{{"id", id},
                                                  {"type", factor->factor_type},
                                                  {"expires_at", unix_now() + kChallengeSeconds}});
  }
  check_client_relying_party(c, JsonBody::parse(c.req));
  FactorCeremony ceremony = begin_factor_ceremony(tx, c, a.user, *factor);
  const std::string id = factors.create_challenge(tx, factor->id, c.req.remote_address, ceremony.challenge);
  tx.commit();
  return json_response(200, boost::json::object{{"id", id},
                                                {"type", "webauthn"},
                                                {"expires_at", unix_now() + kChallengeSeconds},
                                                {"webauthn", std::move(ceremony.webauthn)}});
}

Response verify_factor(AuthServices& s, const RealmCall& c, const SignedIn& a) {
  refuse_anonymous(a);
  const JsonBody body = JsonBody::parse(c.req);
  const std::string challenge_id = body.required_string("challenge_id");
  const FactorStore factors(c.realm);
  PgPool::Lease conn = s.pg.lease();
  pqxx::work tx(*conn);
  UserStore(c.realm).lock(tx, a.user.id);  // one verification of a user at a time (first factor, recovery codes)
  const std::optional<FactorRow> factor = factors.find(tx, a.user.id, factor_id_of(c.req), /*lock=*/true);
  if (!factor) {
    factor_not_found();
  }
  refuse_if_too_many_wrong_codes(tx, c, a.user.id, {factor->id});
  if (factor->status != "verified") {
    // A factor enrolled before the account had a second factor or a
    // passkey becomes one only from aal2 now: else a stolen first factor
    // that enrolled it early would verify it later, past the owner's.
    require_aal2_once_protected(tx, c, a, "to verify a new factor once the account has a second factor or a passkey");
  }
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
  const bool webauthn = factor->factor_type == "webauthn";
  if (webauthn && !body.string("code")) {
    return json_response(200, verify_webauthn_factor(s, c, *conn, tx, a, *factor, *challenge, body));
  }
  const std::string code = body.required_string("code");
  // A recovery code works in place of the factor once it is verified (a
  // lost phone or key): spent, and the method says so.
  const bool recovery = factor->status == "verified" && looks_like_recovery_code(code);
  if (recovery) {
    if (!spend_recovery_code(s.keyd, tx, c.realm, a.user.id, code)) {
      tx.abort();
      wrong_code(*conn, c, a.user.id, {factor->id});
    }
  } else if (webauthn) {
    throw ApiError(400, "validation_failed",
                   "A webauthn factor is verified with webauthn: {type, credential_response}, or a recovery code");
  } else if (!accept_totp(s, tx, c, a.user.id, *factor, code)) {
    tx.abort();
    wrong_code(*conn, c, a.user.id, {factor->id});
  }
  factors.finish_challenge(tx, challenge->id);
  factors.remove_other_unverified(tx, a.user.id, factor->id);
  return json_response(200, raised_by_factor(s, c, tx, a, recovery ? "" : factor->id,
                                             recovery ? "mfa/recovery_code" : "totp"));
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
  factors.purge_stale_unverified(tx, a.user.id);  // an expired pending factor is gone: 404
  const std::optional<FactorRow> factor = factors.find(tx, a.user.id, factor_id_of(c.req), /*lock=*/true);
  if (!factor) {
    factor_not_found();
  }
  if (factor->status == "verified" && a.aal() != "aal2") {
    throw ApiError(422, "insufficient_aal", "AAL2 required to unenroll verified factor");
  }
  factors.remove(tx, factor->id);
  SessionStore(c.realm).lower_raised_by(tx, factor->id, method_of(*factor));
  if (factors.verified(tx, a.user.id).empty()) {
    RecoveryCodeStore(c.realm).remove_all(tx, a.user.id);  // nothing left for them to stand in for
  }
  tx.commit();
  return json_response(200, boost::json::object{{"id", factor->id}});
}

Response verify_sign_in(AuthServices& s, const RealmCall& c) {
  const JsonBody body = JsonBody::parse(c.req);
  const std::string token = body.required_string("challenge_token");
  // A webauthn factor answers with its credential, the others with a code.
  const bool by_webauthn = body.object("webauthn").has_value();
  const std::string code = by_webauthn ? std::string() : body.required_string("code");
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
    if (factor.factor_type == (by_webauthn ? "webauthn" : "totp") && (!only_factor || *only_factor == factor.id)) {
      tried.push_back(factor.id);
      candidates.push_back(std::move(factor));
    }
  }
  refuse_if_too_many_wrong_codes(tx, c, challenge->user_id, tried);
  std::optional<FactorRow> matched;
  if (by_webauthn) {
    try {
      matched = finish_sign_in_ceremony(tx, c, challenge->user_id, challenge->webauthn_challenge, body, only_factor);
    } catch (const ApiError& refused) {
      tx.abort();
      pqxx::work count(*conn);
      if (challenges.count_wrong_code(count, token) >= kSignInChallengeAttempts) {
        challenges.remove(count, token);
      }
      count.commit();
      failed_verification(*conn, c, challenge->user_id, tried, refused);
    }
  }
  const bool recovery = !by_webauthn && looks_like_recovery_code(code);
  if (recovery && spend_recovery_code(s.keyd, tx, c.realm, challenge->user_id, code)) {
    matched = FactorRow{};  // no factor raised it: the recovery code did
  }
  for (const FactorRow& factor : recovery || by_webauthn ? std::vector<FactorRow>{} : candidates) {
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
  sessions.raise_to_aal2(tx, session.session_id, matched->id, recovery ? "mfa/recovery_code" : method_of(*matched));
  if (!challenge->passkey_id.empty()) {
    sessions.link_passkey(tx, session.session_id, challenge->passkey_id);  // ends with the passkey
  }
  return answer_session(s, c, tx, user->id, session);
}

}  // namespace orbitnest::authd
