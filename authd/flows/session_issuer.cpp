#include "authd/flows/session_issuer.h"

#include <botan/hash.h>

#include <chrono>

#include "authd/api/api_error.h"
#include "authd/security/random.h"

namespace orbitnest::authd {
namespace {

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

constexpr std::size_t kRefreshTokenBytes = 32;

std::string rotate_sql() {
  return std::string("WITH old AS ("
                    "  UPDATE auth.refresh_tokens t SET revoked = true, updated_at = now()"
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

SessionIssuer::Rotated SessionIssuer::rotate(pqxx::connection& conn, const Project& project,
                                             const std::string& refresh_token) const {
  if (refresh_token.size() < 12 || refresh_token.size() > 128) {
    throw ApiError(400, "validation_failed", "Refresh token is not valid");
  }
  const pqxx::binarystring old_hash(sha256_bytes(refresh_token));
  Rotated out;
  out.refresh_token = random_token(kRefreshTokenBytes);
  {
    // One statement, so one implicit transaction: revoke the old token if
    // it is still live (the row lock makes concurrent callers wait, and
    // they then find it revoked), insert its child, touch the session, and
    // return the user and the session's methods.
    pqxx::nontransaction q(conn);
    const pqxx::result r = q.exec_prepared("rotate_refresh_token",
        old_hash, pqxx::binarystring(sha256_bytes(out.refresh_token)), project.ref);
    if (!r.empty()) {
      out.user = user_from_row(r[0]);
      out.session_id = r[0]["rotated_session"].as<std::string>();
      out.amr = boost::json::parse(r[0]["amr"].as<std::string>()).as_array();
      return out;
    }
  }
  // Not rotated: unknown, or already used.
  pqxx::work tx(conn);
  const pqxx::result used = tx.exec_params(
      "SELECT t.user_id::text, t.session_id::text, extract(epoch FROM now() - t.updated_at) AS age "
      "FROM auth.refresh_tokens t JOIN auth.users u ON u.id = t.user_id "
      "WHERE t.token_hash = $1 AND t.revoked = true AND u.project_ref = $2",
      old_hash, project.ref);
  if (used.empty()) {
    throw ApiError(400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found");
  }
  const std::string user_id = used[0][0].as<std::string>();
  const std::string session_id = used[0][1].as<std::string>();
  if (used[0][2].as<double>() < project.settings.refresh_grace_seconds) {
    // A benign retry within the grace period (a client that lost the
    // answer): hand out another child of the same session.
    tx.exec_params(
        "INSERT INTO auth.refresh_tokens (token_hash, session_id, user_id, parent_id) "
        "SELECT $2, session_id, user_id, id FROM auth.refresh_tokens WHERE token_hash = $1",
        old_hash, pqxx::binarystring(sha256_bytes(out.refresh_token)));
    std::optional<UserRecord> user = find_user_by_id(tx, project.ref, user_id);
    if (!user) {
      throw ApiError(400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found");
    }
    out.user = std::move(*user);
    out.session_id = session_id;
    out.amr = load_amr(tx, session_id);
    tx.commit();
    return out;
  }
  // A replay: whoever holds this token is not the rightful client, or is
  // racing it. Every session of the user goes, at once.
  tx.exec_params("DELETE FROM auth.sessions WHERE user_id = $1::uuid", user_id);
  tx.commit();
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
                                   {"is_anonymous", user.is_anonymous}};
  const keyd::Frame signed_jwt =
      m_keyd.pool().call(keyd::Op::sign_jwt, {project.keyring, boost::json::serialize(claims)});
  return signed_jwt.fields.at(0);
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

boost::json::object SessionIssuer::session_response(const Project& project, const Rotated& rotated) const {
  return response(project, rotated.user, rotated.session_id, rotated.refresh_token, rotated.amr);
}

}  // namespace orbitnest::authd
