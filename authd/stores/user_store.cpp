#include "authd/stores/user_store.h"

namespace orbitnest::authd {
namespace {


// Prepared per realm kind: the same statement text for another table set.
std::string signed_in_statement(const RealmTables& tables) { return "signed_in_user:" + sql_name(tables.users); }

std::string signed_in_sql(const RealmTables& tables) {
  // The session's aal, NULL when the session is gone (then no row).
  // A session over its timebox ($4) or inactivity timeout ($5) counts as gone.
  const std::string session_aal =
      "(SELECT s.aal FROM " + sql_name(tables.sessions) + " s WHERE s.id = $3::uuid AND s.user_id = " + sql_name(tables.users) +
      ".id AND ($4 = 0 OR s.created_at > now() - make_interval(secs => $4)) AND ($5 = 0 OR "
      "coalesce(s.refreshed_at, s.created_at) > now() - make_interval(secs => $5)))";
  return "SELECT " + UserStore::columns(tables) + ", " + session_aal + " AS session_aal FROM " + sql_name(tables.users) +
         " WHERE " + sql_name(tables.realm_column) + " = $1 AND id = $2::uuid AND " + session_aal + " IS NOT NULL";
}

std::optional<UserRecord> first_user(const pqxx::result& r) {
  if (r.empty()) {
    return std::nullopt;
  }
  return user_from_row(r[0]);
}

}  // namespace

namespace {

std::string iso(const std::string& column) {
  return "to_char(" + column + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')";
}

// The user's MFA factors in GoTrue's shape, as one JSON text column.
std::string factors_column(const RealmTables& tables) {
  return "(SELECT coalesce(json_agg(json_build_object('id', f.id, 'created_at', " + iso("f.created_at") +
         ", 'updated_at', " + iso("f.updated_at") +
         ", 'status', f.status, 'friendly_name', coalesce(f.friendly_name, ''), 'factor_type', f.factor_type, "
         "'phone', coalesce(f.phone, ''), 'last_challenged_at', " + iso("f.last_challenged_at") +
         ") ORDER BY f.created_at), '[]'::json) FROM " + sql_name(tables.factors) + " f WHERE f.user_id = " +
         sql_name(tables.users) + ".id)::text AS factors";
}

}  // namespace

std::string UserStore::columns(const RealmTables& tables) {
  return factors_column(tables) + ", (SELECT count(*) FROM " + sql_name(tables.recovery_codes) + " r WHERE r.user_id = " +
         sql_name(tables.users) + ".id AND r.used_at IS NULL)::int AS recovery_codes_remaining, id::text, " + sql_name(tables.realm_column) +
         " AS realm_ref, aud, role, coalesce(email, '') AS email, coalesce(phone, '') AS phone, "
         "encrypted_password, coalesce(pepper_version, 0) AS pepper_version, "
         "to_char(email_confirmed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS email_confirmed_at, "
         "to_char(last_sign_in_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS last_sign_in_at, "
         "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS created_at, "
         "to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS updated_at, "
         "raw_app_meta_data::text AS app_meta, raw_user_meta_data::text AS user_meta, is_anonymous, "
         "coalesce(email_change, '') AS new_email, "
         "to_char(email_change_sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS "
         "email_change_sent_at, coalesce(banned_until > now(), false) AS banned";
}

void UserStore::prepare_statements(PgPool& pg) {
  for (const RealmTables* tables : {&kProjectTables, &kAdminTables}) {
    pg.prepare(signed_in_statement(*tables), signed_in_sql(*tables));
  }
}

std::optional<UserRecord> UserStore::find_by_email(pqxx::transaction_base& tx, const std::string& email) const {
  return first_user(tx.exec_params("SELECT " + columns(m_tables) + " FROM " + sql_name(m_tables.users) + " WHERE " +
                                       sql_name(m_tables.realm_column) + " = $1 AND email = $2",
                                   m_realm.ref, email));
}

std::optional<UserRecord> UserStore::find_by_id(pqxx::transaction_base& tx, const std::string& id) const {
  if (!is_uuid(id)) {
    return std::nullopt;
  }
  return first_user(tx.exec_params("SELECT " + columns(m_tables) + " FROM " + sql_name(m_tables.users) + " WHERE " +
                                       sql_name(m_tables.realm_column) + " = $1 AND id = $2::uuid",
                                   m_realm.ref, id));
}

std::optional<UserRecord> UserStore::find_by_phone(pqxx::transaction_base& tx, const std::string& phone) const {
  return first_user(tx.exec_params("SELECT " + columns(m_tables) + " FROM " + sql_name(m_tables.users) + " WHERE " +
                                       sql_name(m_tables.realm_column) + " = $1 AND phone = $2",
                                   m_realm.ref, phone));
}

void UserStore::create_with_phone(pqxx::transaction_base& tx, const std::string& id, const std::string& phone) const {
  tx.exec_params("INSERT INTO " + sql_name(m_tables.users) + " (id, " + sql_name(m_tables.realm_column) +
                     ", aud, role, phone, phone_confirmed_at, raw_app_meta_data) VALUES ($1::uuid, $2, $3, $4, $5, "
                     "now(), '{\"provider\":\"phone\",\"providers\":[\"phone\"]}'::jsonb)",
                 id, m_realm.ref, m_realm.audience, m_realm.role, phone);
  tx.exec_params("INSERT INTO " + sql_name(m_tables.identities) +
                     " (id, user_id, provider, provider_id, identity_data) "
                     "VALUES ($1::uuid, $1::uuid, 'phone', $1::text, jsonb_build_object('sub', $1::text, 'phone', "
                     "$2::text, 'phone_verified', true))",
                 id, phone);
}

void UserStore::confirm_phone(pqxx::transaction_base& tx, const std::string& id) const {
  tx.exec_params("UPDATE " + sql_name(m_tables.users) + " SET phone_confirmed_at = now() WHERE " + sql_name(m_tables.realm_column) +
                     " = $1 AND id = $2::uuid AND phone_confirmed_at IS NULL",
                 m_realm.ref, id);
}

bool UserStore::has_email(pqxx::transaction_base& tx, const std::string& email) const {
  return tx.exec_params1("SELECT EXISTS (SELECT 1 FROM " + sql_name(m_tables.users) + " WHERE " + sql_name(m_tables.realm_column) +
                             " = $1 AND email = $2)",
                         m_realm.ref, email)[0]
      .as<bool>();
}

std::optional<UserStore::SignedInRow> UserStore::find_signed_in(pqxx::transaction_base& tx, const std::string& user_id,
                                                                const std::string& session_id) const {
  const pqxx::result r = tx.exec_prepared(signed_in_statement(m_tables), m_realm.ref, user_id, session_id,
                                          m_realm.settings.session_timebox_seconds,
                                          m_realm.settings.session_inactivity_timeout_seconds);
  if (r.empty()) {
    return std::nullopt;
  }
  return SignedInRow{user_from_row(r[0]), r[0]["session_aal"].as<std::string>()};
}

void UserStore::lock(pqxx::transaction_base& tx, const std::string& id) const {
  tx.exec_params("SELECT 1 FROM " + sql_name(m_tables.users) + " WHERE " + sql_name(m_tables.realm_column) +
                     " = $1 AND id = $2::uuid FOR UPDATE",
                 m_realm.ref, id);
}

void UserStore::create_confirmed(pqxx::transaction_base& tx, const std::string& id, const std::string& email,
                                 const std::optional<std::string>& phc, std::optional<int> pepper_version,
                                 const std::string& user_metadata_json) const {
  tx.exec_params("INSERT INTO " + sql_name(m_tables.users) + " (id, " + sql_name(m_tables.realm_column) +
                     ", aud, role, email, encrypted_password, pepper_version, email_confirmed_at, "
                     "raw_app_meta_data, raw_user_meta_data) VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, now(), "
                     "'{\"provider\":\"email\",\"providers\":[\"email\"]}'::jsonb, $8::jsonb)",
                 id, m_realm.ref, m_realm.audience, m_realm.role, email, phc, pepper_version, user_metadata_json);
  tx.exec_params("INSERT INTO " + sql_name(m_tables.identities) +
                     " (id, user_id, provider, provider_id, identity_data) "
                     "VALUES ($1::uuid, $1::uuid, 'email', $1::text, jsonb_build_object('sub', $1::text, 'email', "
                     "$2::text, 'email_verified', true))",
                 id, email);
}

void UserStore::set_password(pqxx::transaction_base& tx, const std::string& id, const PasswordHash& hash) const {
  tx.exec_params("UPDATE " + sql_name(m_tables.users) +
                     " SET encrypted_password = $3, pepper_version = $4, updated_at = now() "
                     "WHERE " + sql_name(m_tables.realm_column) + " = $1 AND id = $2::uuid",
                 m_realm.ref, id, hash.phc, hash.pepper_version);
  // A sign-in begun with the old password must not finish after it changed.
  tx.exec_params("DELETE FROM " + sql_name(m_tables.sign_in_challenges) + " WHERE user_id = $1::uuid", id);
}

void UserStore::set_user_metadata(pqxx::transaction_base& tx, const std::string& id,
                                  const boost::json::object& data) const {
  tx.exec_params("UPDATE " + sql_name(m_tables.users) + " SET raw_user_meta_data = $3::jsonb, updated_at = now() WHERE " +
                     sql_name(m_tables.realm_column) + " = $1 AND id = $2::uuid",
                 m_realm.ref, id, boost::json::serialize(data));
}

void UserStore::confirm_email(pqxx::transaction_base& tx, const std::string& id) const {
  tx.exec_params("UPDATE " + sql_name(m_tables.users) + " SET email_confirmed_at = now() WHERE " + sql_name(m_tables.realm_column) +
                     " = $1 AND id = $2::uuid AND email_confirmed_at IS NULL",
                 m_realm.ref, id);
}

void UserStore::set_banned(pqxx::transaction_base& tx, const std::string& id, bool banned) const {
  tx.exec_params("UPDATE " + sql_name(m_tables.users) +
                     " SET banned_until = CASE WHEN $3 THEN 'infinity'::timestamptz END, updated_at = now() WHERE " +
                     sql_name(m_tables.realm_column) + " = $1 AND id = $2::uuid",
                 m_realm.ref, id, banned);
}

void UserStore::remove(pqxx::transaction_base& tx, const std::string& id) const {
  tx.exec_params("DELETE FROM " + sql_name(m_tables.users) + " WHERE " + sql_name(m_tables.realm_column) + " = $1 AND id = $2::uuid",
                 m_realm.ref, id);
}

std::vector<UserRecord> UserStore::list(pqxx::transaction_base& tx) const {
  std::vector<UserRecord> out;
  for (const pqxx::row& r : tx.exec_params("SELECT " + columns(m_tables) + " FROM " + sql_name(m_tables.users) + " WHERE " +
                                               sql_name(m_tables.realm_column) + " = $1 ORDER BY created_at",
                                           m_realm.ref)) {
    out.push_back(user_from_row(r));
  }
  return out;
}

void UserStore::touch_sign_in(pqxx::transaction_base& tx, const std::string& id) const {
  tx.exec_params("UPDATE " + sql_name(m_tables.users) + " SET last_sign_in_at = now() WHERE " + sql_name(m_tables.realm_column) +
                     " = $1 AND id = $2::uuid",
                 m_realm.ref, id);
}

void UserStore::begin_email_change(pqxx::transaction_base& tx, const std::string& id,
                                   const std::string& new_email) const {
  tx.exec_params("UPDATE " + sql_name(m_tables.users) +
                     " SET email_change = $3, email_change_sent_at = now(), email_change_confirmed = 0, "
                     "updated_at = now() WHERE " + sql_name(m_tables.realm_column) + " = $1 AND id = $2::uuid",
                 m_realm.ref, id, new_email);
}

std::optional<EmailChangeMatch> UserStore::lock_email_change(pqxx::transaction_base& tx,
                                                            const std::string& email) const {
  const pqxx::result r = tx.exec_params(
      "SELECT id::text, email_change = $2 AS is_new, coalesce(email, '') = '' AS no_current FROM " +
          sql_name(m_tables.users) + " WHERE " + sql_name(m_tables.realm_column) +
          " = $1 AND email_change IS NOT NULL AND (email_change = $2 OR email = $2) "
          "ORDER BY email_change_sent_at DESC LIMIT 1 FOR UPDATE",
      m_realm.ref, email);
  if (r.empty()) {
    return std::nullopt;
  }
  return EmailChangeMatch{r[0][0].as<std::string>(), r[0][1].as<bool>(), r[0][2].as<bool>()};
}

int UserStore::confirm_email_change_side(pqxx::transaction_base& tx, const std::string& id, int side) const {
  return tx.exec_params1("UPDATE " + sql_name(m_tables.users) +
                             " SET email_change_confirmed = email_change_confirmed | $3 WHERE " +
                             sql_name(m_tables.realm_column) + " = $1 AND id = $2::uuid RETURNING email_change_confirmed",
                         m_realm.ref, id, side)[0]
      .as<int>();
}

bool UserStore::new_email_taken(pqxx::transaction_base& tx, const std::string& id) const {
  return !tx.exec_params("SELECT 1 FROM " + sql_name(m_tables.users) + " u JOIN " + sql_name(m_tables.users) +
                             " me ON me.id = $2::uuid WHERE u." + sql_name(m_tables.realm_column) + " = $1 AND me." +
                             sql_name(m_tables.realm_column) + " = $1 AND u.email = me.email_change AND u.id <> me.id",
                         m_realm.ref, id)
              .empty();
}

std::string UserStore::apply_email_change(pqxx::transaction_base& tx, const std::string& id) const {
  const std::string new_email =
      tx.exec_params1("UPDATE " + sql_name(m_tables.users) +
                          " SET email = email_change, email_change = NULL, email_change_sent_at = NULL, "
                          "email_change_confirmed = 0, email_confirmed_at = now(), updated_at = now() WHERE " +
                          sql_name(m_tables.realm_column) + " = $1 AND id = $2::uuid RETURNING email",
                      m_realm.ref, id)[0]
          .as<std::string>();
  tx.exec_params("UPDATE " + sql_name(m_tables.identities) +
                     " SET identity_data = identity_data || jsonb_build_object('email', $2::text), "
                     "updated_at = now() WHERE user_id = $1::uuid AND provider = 'email'",
                 id, new_email);
  return new_email;
}

}  // namespace orbitnest::authd
