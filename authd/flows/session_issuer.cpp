#include "authd/flows/session_issuer.h"

#include <botan/hash.h>

#include <chrono>

#include "authd/api/api_error.h"
#include "authd/security/random.h"
#include "keyd/keyring/base64url.h"

namespace orbitnest::authd {
namespace {

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

constexpr std::size_t kRefreshTokenBytes = 32;

// Revokes the old token if it is still live (recording the MAC key version
// that made its child), inserts the child, touches the session, and returns
// the user and the session's methods: a whole rotation in one round trip.
std::string rotate_sql() {
  return std::string("WITH old AS ("
                    "  UPDATE auth.refresh_tokens t SET revoked = true, updated_at = now(), child_mac_version = $4"
                    "  FROM auth.sessions s JOIN auth.users u ON u.id = s.user_id"
                    "  WHERE t.token_hash = $1 AND t.revoked = false AND s.id = t.session_id AND u.project_ref = $3"
                    "  RETURNING t.id, t.session_id, t.user_id), "
                    "ins AS ("
                    "  INSERT INTO auth.refresh_tokens (token_hash, session_id, user_id, parent_id)"
                    "  SELECT $2, session_id, user_id, id FROM old RETURNING session_id, user_id), "
                    "touch AS ("
                    "  UPDATE auth.sessions SET refreshed_at = now(), updated_at = now()"
                    "  WHERE id IN (SELECT session_id FROM ins) RETURNING id) "
                    "SELECT ") +
            kUserColumns +
            ", ins.session_id::text AS rotated_session, "
            "(SELECT coalesce(json_agg(json_build_object('method', c.method, 'timestamp', "
            "extract(epoch FROM c.created_at)::bigint) ORDER BY c.created_at DESC), '[]'::json) "
            "FROM auth.mfa_amr_claims c WHERE c.session_id = ins.session_id)::text AS amr "
            "FROM ins JOIN auth.users ON auth.users.id = ins.user_id";
}

[[noreturn]] void not_found() {
  throw ApiError(400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found");
}

// The session's authentication methods, newest first, as the amr claim.
boost::json::array load_amr(pqxx::transaction_base& tx, const std::string& session_id) {
  boost::json::array amr;
  for (const pqxx::row& r : tx.exec_params(
           "SELECT method, extract(epoch FROM created_at)::bigint FROM auth.mfa_amr_claims "
           "WHERE session_id = $1::uuid ORDER BY created_at DESC",
           session_id)) {
    amr.push_back(boost::json::object{{"method", r[0].as<std::string>()}, {"timestamp", r[1].as<std::int64_t>()}});
  }
  return amr;
}

}  // namespace

std::string sha256_bytes(const std::string& data) {
  auto h = Botan::HashFunction::create_or_throw("SHA-256");
  h->update(data);
  const auto d = h->final();
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

void SessionIssuer::prepare_statements(PgPool& pg) { pg.prepare("rotate_refresh_token", rotate_sql()); }

NewSession SessionIssuer::create_session(pqxx::work& tx, const std::string& user_id, const std::string& amr_method,
                                         const std::string& user_agent, const std::string& ip) const {
  NewSession s;
  s.session_id = uuid_v4();
  s.refresh_token = random_token(kRefreshTokenBytes);
  tx.exec_params(
      "INSERT INTO auth.sessions (id, user_id, user_agent, ip) VALUES ($1::uuid, $2::uuid, $3, nullif($4, '')::inet)",
      s.session_id, user_id, user_agent.substr(0, 512), ip);
  tx.exec_params("INSERT INTO auth.mfa_amr_claims (session_id, method) VALUES ($1::uuid, $2)", s.session_id,
                 amr_method);
  tx.exec_params("INSERT INTO auth.refresh_tokens (token_hash, session_id, user_id) VALUES ($1, $2::uuid, $3::uuid)",
                 pqxx::binarystring(sha256_bytes(s.refresh_token)), s.session_id, user_id);
  tx.exec_params("UPDATE auth.users SET last_sign_in_at = now() WHERE id = $1::uuid", user_id);
  return s;
}

std::string SessionIssuer::derive_child(const std::string& parent, int version, int* used_version) const {
  return keyd::base64url_encode(m_keyd.mac("refresh_token", parent, version, used_version));
}

boost::json::object SessionIssuer::refresh(pqxx::connection& conn, const Project& project,
                                           const std::string& refresh_token) const {
  if (refresh_token.size() < 12 || refresh_token.size() > 128) {
    throw ApiError(400, "validation_failed", "Refresh token is not valid");
  }
  // The child first: keyd being away then changes nothing at all.
  int child_version = 0;
  const std::string child = derive_child(refresh_token, 0, &child_version);
  {
    pqxx::work tx(conn);
    const pqxx::result r = tx.exec_prepared("rotate_refresh_token", pqxx::binarystring(sha256_bytes(refresh_token)),
                                            pqxx::binarystring(sha256_bytes(child)), project.ref, child_version);
    if (!r.empty()) {
      // Signed before the commit: if keyd fails now, the transaction rolls
      // back and the client's retry of the same token simply rotates.
      const UserRecord user = user_from_row(r[0]);
      refuse_banned(user, 400);  // GoTrue's 400 user_banned; rolls back, changes nothing
      const boost::json::object answer =
          response(project, user, r[0]["rotated_session"].as<std::string>(), child,
                   boost::json::parse(r[0]["amr"].as<std::string>()).as_array());
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
  return reuse_or_revoke(conn, project, refresh_token, child, child_version);
}

boost::json::object SessionIssuer::reuse_or_revoke(pqxx::connection& conn, const Project& project,
                                                   const std::string& token, const std::string& child,
                                                   int child_version) const {
  pqxx::nontransaction q(conn);
  const pqxx::result used = q.exec_params(
      "SELECT t.id, t.user_id::text, t.session_id::text, t.child_mac_version, "
      "now() - t.updated_at < make_interval(secs => $3) AS in_window "
      "FROM auth.refresh_tokens t JOIN auth.users u ON u.id = t.user_id "
      "WHERE t.token_hash = $1 AND t.revoked = true AND u.project_ref = $2",
      pqxx::binarystring(sha256_bytes(token)), project.ref, project.settings.refresh_reuse_seconds);
  if (used.empty()) {
    not_found();
  }
  const pqxx::row parent = used[0];
  const std::string user_id = parent[1].as<std::string>();
  const std::string session_id = parent[2].as<std::string>();
  if (parent[4].as<bool>() && !parent[3].is_null()) {
    // A client that lost the answer, or lost a race with its own other tab:
    // its child is handed out again if nobody has used it yet. FOR SHARE
    // waits for a rotation of that child in flight, so "unused" is judged
    // on what committed.
    const int version = parent[3].as<int>();
    int unused = 0;
    const std::string same = version == child_version ? child : derive_child(token, version, &unused);
    const pqxx::result c = q.exec_params(
        "SELECT revoked FROM auth.refresh_tokens WHERE token_hash = $1 AND parent_id = $2 FOR SHARE",
        pqxx::binarystring(sha256_bytes(same)), parent[0].as<std::int64_t>());
    if (!c.empty() && !c[0][0].as<bool>()) {
      std::optional<UserRecord> user = find_user_by_id(q, project.ref, user_id);
      if (!user) {
        not_found();
      }
      refuse_banned(*user, 400);
      return response(project, *user, session_id, same, load_amr(q, session_id));
    }
  }
  // A replay: whoever holds this token is not the rightful client, or is
  // racing it. Every session of the user goes, at once.
  q.exec_params("DELETE FROM auth.sessions WHERE user_id = $1::uuid", user_id);
  throw ApiError(400, "refresh_token_already_used", "Invalid Refresh Token: Already Used");
}

std::string SessionIssuer::sign_access_token(const Project& project, const UserRecord& user,
                                             const std::string& session_id, const boost::json::array& amr,
                                             std::int64_t now, std::int64_t exp) const {
  std::string aal = "aal1";
  for (const boost::json::value& m : amr) {
    const std::string_view method = m.at("method").as_string();
    if (method == "totp" || method == "mfa/phone" || method == "mfa/webauthn") {
      aal = "aal2";
    }
  }
  const boost::json::object claims{{"iss", project.issuer},
                                   {"sub", user.id},
                                   {"aud", "authenticated"},
                                   {"exp", exp},
                                   {"iat", now},
                                   {"email", user.email},
                                   {"phone", user.phone},
                                   {"app_metadata", user.app_metadata},
                                   {"user_metadata", user.user_metadata},
                                   {"role", "authenticated"},
                                   {"aal", aal},
                                   {"amr", amr},
                                   {"session_id", session_id},
                                   {"is_anonymous", user.is_anonymous},
                                   {"ref", project.ref}};  // auth.project() (policy 0006)
  return m_keyd.client().sign_jwt(project.keyring, boost::json::serialize(claims));
}

boost::json::object SessionIssuer::response(const Project& project, const UserRecord& user,
                                            const std::string& session_id, const std::string& refresh_token,
                                            const boost::json::array& amr) const {
  const std::int64_t now = unix_now();
  const std::int64_t exp = now + project.settings.access_token_ttl_seconds;
  return boost::json::object{{"access_token", sign_access_token(project, user, session_id, amr, now, exp)},
                             {"token_type", "bearer"},
                             {"expires_in", exp - now},
                             {"expires_at", exp},
                             {"refresh_token", refresh_token},
                             {"user", user_json(user)}};
}

boost::json::object SessionIssuer::session_response(pqxx::transaction_base& tx, const Project& project,
                                                    const UserRecord& user, const std::string& session_id,
                                                    const std::string& refresh_token) const {
  return response(project, user, session_id, refresh_token, load_amr(tx, session_id));
}

}  // namespace orbitnest::authd
