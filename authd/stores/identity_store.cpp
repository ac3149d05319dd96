#include "authd/stores/identity_store.h"

#include "authd/security/random.h"

namespace orbitnest::authd {

std::optional<std::string> IdentityStore::user_of(pqxx::transaction_base& tx, const std::string& provider,
                                                  const std::string& subject) const {
  const pqxx::result r = tx.exec_params("SELECT i.user_id::text FROM " + sql_name(m_tables.identities) + " i JOIN " +
                                            sql_name(m_tables.users) + " u ON u.id = i.user_id AND u." +
                                            sql_name(m_tables.realm_column) +
                                            " = $3 WHERE i.provider = $1 AND i.provider_id = $2",
                                        provider, subject, m_realm.ref);
  return r.empty() ? std::nullopt : std::optional<std::string>(r[0][0].as<std::string>());
}

bool IdentityStore::link(pqxx::transaction_base& tx, const std::string& user_id, const std::string& provider,
                         const std::string& subject, const boost::json::object& identity_data) const {
  const pqxx::result linked =
      tx.exec_params("INSERT INTO " + sql_name(m_tables.identities) +
                         " (id, user_id, provider, provider_id, identity_data, last_sign_in_at) "
                         "VALUES ($1::uuid, $2::uuid, $3, $4, $5::jsonb, now()) "
                         "ON CONFLICT DO NOTHING RETURNING id",
                     uuid_v4(), user_id, provider, subject, boost::json::serialize(identity_data));
  if (linked.empty()) {
    return false;
  }
  tx.exec_params("UPDATE " + sql_name(m_tables.users) +
                     " SET raw_app_meta_data = jsonb_set(coalesce(raw_app_meta_data, '{}'::jsonb), '{providers}', "
                     "(SELECT to_jsonb(array_agg(DISTINCT p)) FROM (SELECT jsonb_array_elements_text("
                     "coalesce(raw_app_meta_data->'providers', '[]'::jsonb)) AS p UNION SELECT $3) ps)), "
                     "updated_at = now() WHERE " + sql_name(m_tables.realm_column) + " = $1 AND id = $2::uuid",
                 m_realm.ref, user_id, provider);
  return true;
}

void IdentityStore::touch(pqxx::transaction_base& tx, const std::string& provider, const std::string& subject,
                          const boost::json::object& identity_data) const {
  tx.exec_params("UPDATE " + sql_name(m_tables.identities) +
                     " SET identity_data = $3::jsonb, last_sign_in_at = now(), updated_at = now() "
                     "WHERE provider = $1 AND provider_id = $2 AND user_id IN (SELECT id FROM " +
                     sql_name(m_tables.users) + " WHERE " + sql_name(m_tables.realm_column) + " = $4)",
                 provider, subject, boost::json::serialize(identity_data), m_realm.ref);
}

}  // namespace orbitnest::authd
