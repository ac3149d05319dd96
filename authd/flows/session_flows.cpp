// A signed-in user's own sessions, for every realm: list them, end one.
#include "authd/api/api_error.h"
#include "authd/flows/auth_api.h"
#include "authd/stores/session_store.h"

namespace orbitnest::authd {

Response list_sessions(AuthServices& s, const RealmCall& c, const SignedIn& a) {
  PgPool::Lease conn = s.pg.lease();
  pqxx::nontransaction q(*conn);
  boost::json::array out;
  for (const SessionInfo& info : SessionStore(c.realm).list(q, a.user.id)) {
    boost::json::object o{{"id", info.id},        {"created_at", info.created_at}, {"user_agent", info.user_agent},
                          {"ip", info.ip},        {"aal", info.aal},               {"current", info.id == a.token.session_id}};
    o["refreshed_at"] = info.refreshed_at.empty() ? boost::json::value(nullptr) : boost::json::value(info.refreshed_at);
    out.push_back(std::move(o));
  }
  return json_response(200, boost::json::object{{"sessions", out}});
}

// DELETE .../sessions/{id}: the session's refresh tokens die with it; its
// access tokens are refused from the next request on (every request checks
// that its session exists).
Response revoke_session(AuthServices& s, const RealmCall& c, const SignedIn& a) {
  const std::string id = c.req.path.substr(c.req.path.rfind('/') + 1);
  if (!is_uuid(id)) {
    throw ApiError(400, "validation_failed", "A session id is a UUID");
  }
  PgPool::Lease conn = s.pg.lease();
  pqxx::work tx(*conn);
  if (!SessionStore(c.realm).delete_one(tx, a.user.id, id)) {
    throw ApiError(404, "session_not_found", "No session of yours has this id");
  }
  tx.commit();
  Response r;
  r.status = 204;
  r.content_type = "text/plain";
  return r;
}

}  // namespace orbitnest::authd
