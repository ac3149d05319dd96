#include "authd/stores/session_store.h"

#include "authd/stores/user_store.h"

namespace orbitnest::authd {
namespace {


std::string amr_json_sql(const RealmTables& tables, const std::string& session_expr) {
  return "(SELECT coalesce(json_agg(json_build_object('method', c.method, 'timestamp', "
         "extract(epoch FROM c.created_at)::bigint) ORDER BY c.created_at DESC), '[]'::json) FROM " +
         sql_name(tables.amr_claims) + " c WHERE c.session_id = " + session_expr + ")::text";
}

std::string rotate_statement(const RealmTables& tables) { return "rotate_refresh_token:" + sql_name(tables.refresh_tokens); }

// A whole rotation in one round trip (the UPDATE's row lock makes two
// concurrent rotations of one token impossible).
std::string rotate_sql(const RealmTables& tables) {
  return "WITH old AS ("
         "  UPDATE " + sql_name(tables.refresh_tokens) + " t SET revoked = true, updated_at = now(), child_mac_version = $4"
         "  FROM " + sql_name(tables.sessions) + " s JOIN " + sql_name(tables.users) + " u ON u.id = s.user_id"
         "  WHERE t.token_hash = $1 AND t.revoked = false AND s.id = t.session_id AND u." + sql_name(tables.realm_column) +
         " = $3 RETURNING t.id, t.session_id, t.user_id), "
         "ins AS ("
         "  INSERT INTO " + sql_name(tables.refresh_tokens) + " (token_hash, session_id, user_id, parent_id)"
         "  SELECT $2, session_id, user_id, id FROM old RETURNING session_id, user_id), "
         "touch AS ("
         "  UPDATE " + sql_name(tables.sessions) + " SET refreshed_at = now(), updated_at = now()"
         "  WHERE id IN (SELECT session_id FROM ins) RETURNING id) "
         "SELECT " + UserStore::columns(tables) + ", ins.session_id::text AS rotated_session, " +
         amr_json_sql(tables, "ins.session_id") + " AS amr, (SELECT aal FROM " + sql_name(tables.sessions) +
         " WHERE id = ins.session_id) AS session_aal FROM ins JOIN " + sql_name(tables.users) + " ON " + sql_name(tables.users) +
         ".id = ins.user_id";
}

std::string timestamp(std::string_view column) {
  return "coalesce(to_char(" + sql_name(column) + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), '')";
}

}  // namespace

void SessionStore::prepare_statements(PgPool& pg) {
  for (const RealmTables* tables : {&kProjectTables, &kAdminTables}) {
    pg.prepare(rotate_statement(*tables), rotate_sql(*tables));
  }
}

void SessionStore::create(pqxx::transaction_base& tx, const std::string& session_id, const std::string& user_id,
                          const std::string& amr_method, const std::string& user_agent, const std::string& ip,
                          const std::string& refresh_token_hash) const {
  if (m_realm.settings.single_session_per_user) {
    delete_all(tx, user_id);
  }
  tx.exec_params("INSERT INTO " + sql_name(m_tables.sessions) +
                     " (id, user_id, user_agent, ip) VALUES ($1::uuid, $2::uuid, $3, nullif($4, '')::inet)",
                 session_id, user_id, user_agent.substr(0, 512), ip);
  tx.exec_params("INSERT INTO " + sql_name(m_tables.amr_claims) + " (session_id, method) VALUES ($1::uuid, $2)", session_id,
                 amr_method);
  tx.exec_params("INSERT INTO " + sql_name(m_tables.refresh_tokens) +
                     " (token_hash, session_id, user_id) VALUES ($1, $2::uuid, $3::uuid)",
                 pqxx::binarystring(refresh_token_hash), session_id, user_id);
  tx.exec_params("UPDATE " + sql_name(m_tables.users) + " SET last_sign_in_at = now() WHERE " + sql_name(m_tables.realm_column) +
                     " = $1 AND id = $2::uuid",
                 m_realm.ref, user_id);
}

bool SessionStore::end_if_expired(pqxx::transaction_base& tx, const std::string& token_hash) const {
  const int timebox = m_realm.settings.session_timebox_seconds;
  const int inactivity = m_realm.settings.session_inactivity_timeout_seconds;
  if (timebox == 0 && inactivity == 0) {
    return false;
  }
  return !tx.exec_params("DELETE FROM " + sql_name(m_tables.sessions) + " s USING " + sql_name(m_tables.refresh_tokens) + " r, " +
                             sql_name(m_tables.users) + " u WHERE r.token_hash = $1 AND s.id = r.session_id AND u.id = s.user_id "
                             "AND u." + sql_name(m_tables.realm_column) + " = $2 AND (($3 > 0 AND s.created_at < now() - "
                             "make_interval(secs => $3)) OR ($4 > 0 AND coalesce(s.refreshed_at, s.created_at) < now() - "
                             "make_interval(secs => $4))) RETURNING s.id",
                         pqxx::binarystring(token_hash), m_realm.ref, timebox, inactivity)
              .empty();
}

std::optional<Rotation> SessionStore::rotate(pqxx::transaction_base& tx, const std::string& parent_hash,
                                             const std::string& child_hash, int child_mac_version) const {
  const pqxx::result r = tx.exec_prepared(rotate_statement(m_tables), pqxx::binarystring(parent_hash),
                                          pqxx::binarystring(child_hash), m_realm.ref, child_mac_version);
  if (r.empty()) {
    return std::nullopt;
  }
  return Rotation{user_from_row(r[0]), r[0]["rotated_session"].as<std::string>(),
                  SessionAuth{r[0]["session_aal"].as<std::string>(),
                              boost::json::parse(r[0]["amr"].as<std::string>()).as_array()}};
}

std::optional<UsedRefreshToken> SessionStore::find_used(pqxx::transaction_base& tx, const std::string& token_hash,
                                                        int reuse_seconds) const {
  const pqxx::result r = tx.exec_params(
      "SELECT t.id, t.user_id::text, t.session_id::text, t.child_mac_version, "
      "now() - t.updated_at < make_interval(secs => $3) AS in_window FROM " +
          sql_name(m_tables.refresh_tokens) + " t JOIN " + sql_name(m_tables.users) +
          " u ON u.id = t.user_id WHERE t.token_hash = $1 AND t.revoked = true AND u." + sql_name(m_tables.realm_column) +
          " = $2",
      pqxx::binarystring(token_hash), m_realm.ref, reuse_seconds);
  if (r.empty()) {
    return std::nullopt;
  }
  const pqxx::row row = r[0];
  return UsedRefreshToken{row[0].as<std::int64_t>(), row[1].as<std::string>(), row[2].as<std::string>(),
                          row[3].is_null() ? std::nullopt : std::optional<int>(row[3].as<int>()), row[4].as<bool>()};
}

bool SessionStore::child_unused(pqxx::transaction_base& tx, const std::string& child_hash,
                                std::int64_t parent_id) const {
  const pqxx::result c = tx.exec_params("SELECT revoked FROM " + sql_name(m_tables.refresh_tokens) +
                                            " WHERE token_hash = $1 AND parent_id = $2 FOR SHARE",
                                        pqxx::binarystring(child_hash), parent_id);
  return !c.empty() && !c[0][0].as<bool>();
}

SessionAuth SessionStore::auth_of(pqxx::transaction_base& tx, const std::string& session_id) const {
  const pqxx::result r = tx.exec_params("SELECT coalesce((SELECT aal FROM " + sql_name(m_tables.sessions) +
                                            " WHERE id = $1::uuid), 'aal1'), " + amr_json_sql(m_tables, "$1::uuid"),
                                        session_id);
  return SessionAuth{r[0][0].as<std::string>(), boost::json::parse(r[0][1].as<std::string>()).as_array()};
}

void SessionStore::raise_to_aal2(pqxx::transaction_base& tx, const std::string& session_id,
                                 const std::string& factor_id, const std::string& method) const {
  tx.exec_params("INSERT INTO " + sql_name(m_tables.amr_claims) +
                     " (session_id, method) VALUES ($1::uuid, $2) "
                     "ON CONFLICT (session_id, method) DO UPDATE SET created_at = now()",
                 session_id, method);
  tx.exec_params("UPDATE " + sql_name(m_tables.sessions) +
                     " SET aal = 'aal2', factor_id = nullif($2, '')::uuid, updated_at = now() WHERE id = $1::uuid",
                 session_id, factor_id);
}

void SessionStore::link_passkey(pqxx::transaction_base& tx, const std::string& session_id,
                                const std::string& passkey_id) const {
  tx.exec_params("UPDATE " + sql_name(m_tables.sessions) + " SET passkey_id = $2::uuid WHERE id = $1::uuid", session_id,
                 passkey_id);
}

void SessionStore::lower_raised_by(pqxx::transaction_base& tx, const std::string& factor_id,
                                   const std::string& method) const {
  tx.exec_params("DELETE FROM " + sql_name(m_tables.amr_claims) + " c USING " + sql_name(m_tables.sessions) +
                     " s WHERE c.session_id = s.id AND s.factor_id = $1::uuid AND c.method = $2",
                 factor_id, method);
  tx.exec_params("UPDATE " + sql_name(m_tables.sessions) +
                     " SET aal = 'aal1', factor_id = NULL, updated_at = now() WHERE factor_id = $1::uuid",
                 factor_id);
}

void SessionStore::replace_refresh_token(pqxx::transaction_base& tx, const std::string& session_id,
                                         const std::string& user_id, const std::string& token_hash) const {
  tx.exec_params("UPDATE " + sql_name(m_tables.refresh_tokens) +
                     " SET revoked = true, updated_at = now() WHERE session_id = $1::uuid AND revoked = false",
                 session_id);
  tx.exec_params("INSERT INTO " + sql_name(m_tables.refresh_tokens) +
                     " (token_hash, session_id, user_id) VALUES ($1, $2::uuid, $3::uuid)",
                 pqxx::binarystring(token_hash), session_id, user_id);
}

void SessionStore::delete_other_low_aal(pqxx::transaction_base& tx, const std::string& user_id,
                                        const std::string& keep) const {
  tx.exec_params("DELETE FROM " + sql_name(m_tables.sessions) + " s USING " + sql_name(m_tables.users) +
                     " u WHERE u.id = s.user_id AND u." + sql_name(m_tables.realm_column) +
                     " = $1 AND s.user_id = $2::uuid AND s.id <> $3::uuid AND s.aal = 'aal1'",
                 m_realm.ref, user_id, keep);
}

std::vector<SessionInfo> SessionStore::list(pqxx::transaction_base& tx, const std::string& user_id) const {
  std::vector<SessionInfo> out;
  for (const pqxx::row& r : tx.exec_params(
           "SELECT s.id::text, " + timestamp("s.created_at") + ", " + timestamp("s.refreshed_at") +
               ", coalesce(s.user_agent, ''), coalesce(host(s.ip), ''), s.aal FROM " + sql_name(m_tables.sessions) +
               " s JOIN " + sql_name(m_tables.users) + " u ON u.id = s.user_id WHERE u." + sql_name(m_tables.realm_column) +
               " = $1 AND s.user_id = $2::uuid ORDER BY s.created_at DESC",
           m_realm.ref, user_id)) {
    out.push_back(SessionInfo{r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(),
                              r[3].as<std::string>(), r[4].as<std::string>(), r[5].as<std::string>()});
  }
  return out;
}

bool SessionStore::delete_one(pqxx::transaction_base& tx, const std::string& user_id,
                              const std::string& session_id) const {
  return tx.exec_params("DELETE FROM " + sql_name(m_tables.sessions) + " s USING " + sql_name(m_tables.users) +
                            " u WHERE u.id = s.user_id AND u." + sql_name(m_tables.realm_column) +
                            " = $1 AND s.user_id = $2::uuid AND s.id = $3::uuid",
                        m_realm.ref, user_id, session_id)
             .affected_rows() > 0;
}

void SessionStore::delete_others(pqxx::transaction_base& tx, const std::string& user_id,
                                 const std::string& keep) const {
  tx.exec_params("DELETE FROM " + sql_name(m_tables.sessions) + " s USING " + sql_name(m_tables.users) +
                     " u WHERE u.id = s.user_id AND u." + sql_name(m_tables.realm_column) +
                     " = $1 AND s.user_id = $2::uuid AND s.id <> $3::uuid",
                 m_realm.ref, user_id, keep);
}

void SessionStore::delete_all(pqxx::transaction_base& tx, const std::string& user_id) const {
  tx.exec_params("DELETE FROM " + sql_name(m_tables.sessions) + " s USING " + sql_name(m_tables.users) +
                     " u WHERE u.id = s.user_id AND u." + sql_name(m_tables.realm_column) + " = $1 AND s.user_id = $2::uuid",
                 m_realm.ref, user_id);
}

}  // namespace orbitnest::authd
