#include "authd/flows/session_issuer.h"

#include <botan/hash.h>

#include <chrono>

#include "authd/api/api_error.h"
#include "authd/security/random.h"
#include "authd/stores/session_store.h"
#include "authd/stores/user_store.h"
#include "authd/tokens/principal.h"
#include "keyd/keyring/base64url.h"

namespace orbitnest::authd {
namespace {

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

constexpr std::size_t kRefreshTokenBytes = 32;

// In the challenge sign-in mode a user with a verified factor holds no
// session below aal2: one left from before (the factor verified in another
// session, or the mode switched) refreshes no more (GoTrue's "low AAL").
void refuse_low_aal(const Realm& realm, const UserRecord& user, const SessionAuth& auth) {
  if (below_required_aal(realm, user, auth.aal)) {
    throw ApiError(400, "session_expired", "Invalid Refresh Token: Session Expired (Low AAL: User Needs MFA Verification)");
  }
}

[[noreturn]] void not_found() {
  throw ApiError(400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found");
}

}  // namespace

std::string sha256_bytes(const std::string& data) {
  auto h = Botan::HashFunction::create_or_throw("SHA-256");
  h->update(data);
  const auto d = h->final();
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

NewSession SessionIssuer::create_session(pqxx::work& tx, const Realm& realm, const std::string& user_id,
                                         const std::string& amr_method, const std::string& user_agent,
                                         const std::string& ip) const {
  NewSession s;
  s.session_id = uuid_v4();
  s.refresh_token = random_token(kRefreshTokenBytes);
  SessionStore(realm).create(tx, s.session_id, user_id, amr_method, user_agent, ip, sha256_bytes(s.refresh_token));
  return s;
}

std::string SessionIssuer::replace_refresh_token(pqxx::work& tx, const Realm& realm, const std::string& session_id,
                                                 const std::string& user_id) const {
  std::string token = random_token(kRefreshTokenBytes);
  SessionStore(realm).replace_refresh_token(tx, session_id, user_id, sha256_bytes(token));
  return token;
}

std::string SessionIssuer::derive_child(const std::string& parent, int version, int* used_version) const {
  return keyd::base64url_encode(m_keyd.mac("refresh_token", parent, version, used_version));
}

boost::json::object SessionIssuer::refresh(pqxx::connection& conn, const Realm& realm,
                                           const std::string& refresh_token) const {
  if (refresh_token.size() < 12 || refresh_token.size() > 128) {
    throw ApiError(400, "validation_failed", "Refresh token is not valid");
  }
  // The child first: keyd being away then changes nothing at all.
  int child_version = 0;
  const std::string child = derive_child(refresh_token, 0, &child_version);
  {
    pqxx::work tx(conn);
    if (SessionStore(realm).end_if_expired(tx, sha256_bytes(refresh_token))) {
      tx.commit();  // the session is over: it and its tokens are gone
      throw ApiError(400, "session_expired", "Invalid Refresh Token: Session Expired");
    }
    const std::optional<Rotation> rotated =
        SessionStore(realm).rotate(tx, sha256_bytes(refresh_token), sha256_bytes(child), child_version);
    if (rotated) {
      // Signed before the commit: if keyd fails now, the transaction rolls
      // back and the client's retry of the same token simply rotates.
      refuse_banned(rotated->user, 400);  // GoTrue's 400 user_banned; rolls back, changes nothing
      refuse_low_aal(realm, rotated->user, rotated->auth);
      const boost::json::object answer = response(realm, rotated->user, rotated->session_id, child, rotated->auth);
      try {
        tx.commit();
      } catch (const pqxx::in_doubt_error&) {
        // The connection broke during COMMIT. A 503 is what clients retry
        // (auth-js does, a 500 it does not), and the retry is safe: it
        // rotates, or gets this same child in the reuse window.
        ApiError e(503, "service_unavailable", "The database is unavailable; retry shortly");
        e.retry_after = 1;
        throw e;
      }
      return answer;
    }
  }
  return reuse_or_revoke(conn, realm, refresh_token, child, child_version);
}

boost::json::object SessionIssuer::reuse_or_revoke(pqxx::connection& conn, const Realm& realm,
                                                   const std::string& token, const std::string& child,
                                                   int child_version) const {
  const SessionStore sessions(realm);
  pqxx::nontransaction q(conn);
  const std::optional<UsedRefreshToken> used =
      sessions.find_used(q, sha256_bytes(token), realm.settings.refresh_reuse_seconds);
  if (!used) {
    not_found();
  }
  if (used->in_reuse_window && used->child_mac_version) {
    // A client that lost the answer, or lost a race with its own other tab:
    // its child is handed out again if nobody has used it yet ("unused" is
    // judged on what committed: child_unused waits for a rotation in flight).
    const int version = *used->child_mac_version;
    int unused = 0;
    const std::string same = version == child_version ? child : derive_child(token, version, &unused);
    if (sessions.child_unused(q, sha256_bytes(same), used->id)) {
      const std::optional<UserRecord> user = UserStore(realm).find_by_id(q, used->user_id);
      if (!user) {
        not_found();
      }
      refuse_banned(*user, 400);
      const SessionAuth auth = sessions.auth_of(q, used->session_id);
      refuse_low_aal(realm, *user, auth);
      return response(realm, *user, used->session_id, same, auth);
    }
  }
  // A replay: whoever holds this token is not the rightful client, or is
  // racing it. Every session of the user goes, at once.
  sessions.delete_all(q, used->user_id);
  throw ApiError(400, "refresh_token_already_used", "Invalid Refresh Token: Already Used");
}

std::string SessionIssuer::sign_access_token(const Realm& realm, const UserRecord& user,
                                             const std::string& session_id, const SessionAuth& auth,
                                             std::int64_t now, std::int64_t exp) const {
  boost::json::object claims{{"iss", realm.issuer},
                             {"sub", user.id},
                             {"aud", realm.audience},
                             {"exp", exp},
                             {"iat", now},
                             {"email", user.email},
                             {"phone", user.phone},
                             {"app_metadata", user.app_metadata},
                             {"user_metadata", user.user_metadata},
                             {"role", realm.role},
                             {"aal", auth.aal},
                             {"amr", auth.amr},
                             {"session_id", session_id},
                             {"is_anonymous", user.is_anonymous}};
  if (realm.kind == RealmKind::project) {
    claims["ref"] = realm.ref;  // auth.project() (policy 0006)
  }
  return m_keyd.client().sign_jwt(realm.keyring, boost::json::serialize(claims));
}

boost::json::object SessionIssuer::response(const Realm& realm, const UserRecord& user,
                                            const std::string& session_id, const std::string& refresh_token,
                                            const SessionAuth& auth) const {
  const std::int64_t now = unix_now();
  const std::int64_t exp = now + realm.settings.access_token_ttl_seconds;
  return boost::json::object{{"access_token", sign_access_token(realm, user, session_id, auth, now, exp)},
                             {"token_type", "bearer"},
                             {"expires_in", exp - now},
                             {"expires_at", exp},
                             {"refresh_token", refresh_token},
                             {"user", user_json(user)}};
}

boost::json::object SessionIssuer::session_response(pqxx::transaction_base& tx, const Realm& realm,
                                                    const UserRecord& user, const std::string& session_id,
                                                    const std::string& refresh_token) const {
  return response(realm, user, session_id, refresh_token, SessionStore(realm).auth_of(tx, session_id));
}

}  // namespace orbitnest::authd
