#include "authd/stores/session_purge.h"

namespace orbitnest::authd {
namespace {


int expired_project_sessions(pqxx::connection& conn) {
  pqxx::work tx(conn);
  // Each project's own lifetimes, from its settings (0 or absent: none).
  const pqxx::result r = tx.exec_params(
      "WITH lifetimes AS ("
      "  SELECT ref, coalesce((settings->>'session_timebox_seconds')::int, 0) AS timebox,"
      "         coalesce((settings->>'session_inactivity_timeout_seconds')::int, 0) AS inactivity"
      "  FROM auth.projects),"
      " doomed AS ("
      "  SELECT s.id FROM lifetimes p JOIN auth.users u ON u.project_ref = p.ref"
      "  JOIN auth.sessions s ON s.user_id = u.id"
      "  WHERE (p.timebox > 0 AND s.created_at < now() - make_interval(secs => p.timebox))"
      "     OR (p.inactivity > 0 AND coalesce(s.refreshed_at, s.created_at) < now() - make_interval(secs => p.inactivity))"
      "  LIMIT $1)"
      " DELETE FROM auth.sessions WHERE id IN (SELECT id FROM doomed)",
      kPurgeBatch);
  tx.commit();
  return static_cast<int>(r.affected_rows());
}

int expired_realm_sessions(pqxx::connection& conn, const Realm& realm) {
  const int timebox = realm.settings.session_timebox_seconds;
  const int inactivity = realm.settings.session_inactivity_timeout_seconds;
  if (timebox == 0 && inactivity == 0) {
    return 0;
  }
  const RealmTables& tables = realm.tables();
  pqxx::work tx(conn);
  const pqxx::result r = tx.exec_params(
      "DELETE FROM " + sql_name(tables.sessions) + " WHERE id IN (SELECT id FROM " + sql_name(tables.sessions) +
          " WHERE ($1 > 0 AND created_at < now() - make_interval(secs => $1))"
          " OR ($2 > 0 AND coalesce(refreshed_at, created_at) < now() - make_interval(secs => $2)) LIMIT $3)",
      timebox, inactivity, kPurgeBatch);
  tx.commit();
  return static_cast<int>(r.affected_rows());
}

int old_rotated_tokens(pqxx::connection& conn, const RealmTables& tables, int history_seconds) {
  pqxx::work tx(conn);
  const pqxx::result r = tx.exec_params(
      "DELETE FROM " + sql_name(tables.refresh_tokens) + " WHERE id IN (SELECT id FROM " + sql_name(tables.refresh_tokens) +
          " WHERE revoked AND updated_at < now() - make_interval(secs => $1) LIMIT $2)",
      history_seconds, kPurgeBatch);
  tx.commit();
  return static_cast<int>(r.affected_rows());
}

}  // namespace

PurgeCounts purge_expired_batch(pqxx::connection& conn, const Realm& admin_realm, int refresh_token_history_seconds) {
  PurgeCounts n;
  n.sessions += expired_project_sessions(conn);
  n.sessions += expired_realm_sessions(conn, admin_realm);
  n.refresh_tokens += old_rotated_tokens(conn, kProjectTables, refresh_token_history_seconds);
  n.refresh_tokens += old_rotated_tokens(conn, kAdminTables, refresh_token_history_seconds);
  return n;
}

}  // namespace orbitnest::authd
