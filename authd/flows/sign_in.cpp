// Where every first factor ends (password, mailed code, email link, PKCE,
// a confirmed email change): a session, or — for a user with a verified
// second factor in a realm whose mfa_sign_in is "challenge" (the default)
// — no session at all but a challenge token for POST /mfa/verify.
#include "authd/flows/auth_api.h"
#include "authd/stores/sign_in_challenge_store.h"
#include "authd/stores/user_store.h"

namespace orbitnest::authd {

Response finish_sign_in(AuthServices& s, const RealmCall& c, pqxx::work& tx, const UserRecord& user,
                        const std::string& method, const std::string& user_agent) {
  if (user.has_verified_factor() && c.realm.settings.mfa_sign_in == kMfaSignInChallenge) {
    const std::string token =
        SignInChallengeStore(c.realm).create(tx, user.id, method, c.req.remote_address, user_agent);
    boost::json::array factors;
    for (const boost::json::value& f : user.factors) {
      if (f.at("status").as_string() == "verified") {
        factors.push_back(boost::json::object{
            {"id", f.at("id")}, {"factor_type", f.at("factor_type")}, {"friendly_name", f.at("friendly_name")}});
      }
    }
    tx.commit();
    return json_response(200, boost::json::object{{"mfa_required", true},
                                                  {"challenge_token", token},
                                                  {"expires_at", unix_now() + kSignInChallengeSeconds},
                                                  {"factors", factors}});
  }
  const NewSession session =
      s.sessions.create_session(tx, c.realm, user.id, method, user_agent, c.req.remote_address);
  const std::optional<UserRecord> fresh = UserStore(c.realm).find_by_id(tx, user.id);
  const boost::json::object response =
      s.sessions.session_response(tx, c.realm, *fresh, session.session_id, session.refresh_token);
  tx.commit();
  return json_response(200, response);
}

}  // namespace orbitnest::authd
