// Where every sign-in ends. A first factor (password, mailed code, email
// link, PKCE, a confirmed email change, a passkey without user
// verification) ends in finish_sign_in(): a session, or — for a user with
// a verified second factor in a realm whose mfa_sign_in is "challenge"
// (the default) — no session at all but a challenge token for POST
// /mfa/verify. A second factor ends in answer_session() (a new aal2
// session) or raise_session() (the caller's own session raised).
#include "authd/flows/auth_api.h"
#include "authd/flows/webauthn_factor.h"
#include "authd/stores/session_store.h"
#include "authd/stores/sign_in_challenge_store.h"
#include "authd/stores/user_store.h"

namespace orbitnest::authd {

std::string user_agent_of(const Request& req) {
  const auto it = req.headers.find("User-Agent");
  return it == req.headers.end() ? std::string() : it->second;
}

Response answer_session(AuthServices& s, const RealmCall& c, pqxx::work& tx, const std::string& user_id,
                        const NewSession& session) {
  const std::optional<UserRecord> fresh = UserStore(c.realm).find_by_id(tx, user_id);
  const boost::json::object response =
      s.sessions.session_response(tx, c.realm, *fresh, session.session_id, session.refresh_token);
  tx.commit();
  return json_response(200, response);
}

boost::json::object raise_session(AuthServices& s, const RealmCall& c, pqxx::work& tx, const SignedIn& a,
                                  const std::string& factor_id, const std::string& method) {
  const SessionStore sessions(c.realm);
  sessions.raise_to_aal2(tx, a.token.session_id, factor_id, method);
  // A new refresh token: the pre-MFA one must not mint aal2 tokens. The
  // user's other sessions below aal2 end, as GoTrue does.
  const std::string refresh_token = s.sessions.replace_refresh_token(tx, c.realm, a.token.session_id, a.user.id);
  sessions.delete_other_low_aal(tx, a.user.id, a.token.session_id);
  const std::optional<UserRecord> user = UserStore(c.realm).find_by_id(tx, a.user.id);
  boost::json::object response = s.sessions.session_response(tx, c.realm, *user, a.token.session_id, refresh_token);
  tx.commit();
  return response;
}

Response finish_sign_in(AuthServices& s, const RealmCall& c, pqxx::work& tx, const UserRecord& user,
                        const std::string& method, const std::string& user_agent, const std::string& passkey_id) {
  if (user.has_verified_factor() && c.realm.settings.mfa_sign_in == kMfaSignInChallenge) {
    // A user with webauthn factors gets their ceremony with the token.
    const std::optional<FactorCeremony> ceremony = begin_sign_in_ceremony(tx, c, user.id);
    const std::string token = SignInChallengeStore(c.realm).create(tx, user.id, method, c.req.remote_address,
                                                                   user_agent, passkey_id,
                                                                   ceremony ? ceremony->challenge : std::string());
    boost::json::array factors;
    for (const boost::json::value& f : user.factors) {
      if (f.at("status").as_string() == "verified") {
        factors.push_back(boost::json::object{
            {"id", f.at("id")}, {"factor_type", f.at("factor_type")}, {"friendly_name", f.at("friendly_name")}});
      }
    }
    tx.commit();
    boost::json::object answer{{"mfa_required", true},
                               {"challenge_token", token},
                               {"expires_at", unix_now() + kSignInChallengeSeconds},
                               {"factors", factors}};
    if (ceremony) {
      answer["webauthn"] = ceremony->webauthn;
    }
    return json_response(200, answer);
  }
  const NewSession session =
      s.sessions.create_session(tx, c.realm, user.id, method, user_agent, c.req.remote_address);
  if (!passkey_id.empty()) {
    SessionStore(c.realm).link_passkey(tx, session.session_id, passkey_id);
  }
  return answer_session(s, c, tx, user.id, session);
}

}  // namespace orbitnest::authd
