#include "authd/stores/pending_signup_store.h"

namespace orbitnest::authd {

std::string PendingSignupStore::upsert(pqxx::transaction_base& tx, const std::string& new_id, const std::string& email,
                                       const std::optional<std::string>& phc, std::optional<int> pepper_version,
                                       const std::string& user_metadata_json) const {
  return tx
      .exec_params1(
          "INSERT INTO auth.pending_signups AS p (id, project_ref, email, encrypted_password, pepper_version, "
          "raw_user_meta_data, password_locked, expires_at) "
          "VALUES ($1::uuid, $2, $3, $4::text, $5::int, $6::jsonb, $4::text IS NULL, now() + interval '1 day') "
          "ON CONFLICT (project_ref, email) DO UPDATE SET "
          "encrypted_password = CASE WHEN p.expires_at > now() AND p.password_locked THEN NULL "
          "  ELSE EXCLUDED.encrypted_password END, "
          "pepper_version = CASE WHEN p.expires_at > now() AND p.password_locked THEN NULL "
          "  ELSE EXCLUDED.pepper_version END, "
          "password_locked = CASE WHEN p.expires_at > now() THEN p.password_locked OR EXCLUDED.password_locked "
          "  ELSE EXCLUDED.password_locked END, "
          "raw_user_meta_data = EXCLUDED.raw_user_meta_data, expires_at = EXCLUDED.expires_at, "
          "id = CASE WHEN p.expires_at > now() THEN p.id ELSE EXCLUDED.id END "
          "RETURNING id::text",
          new_id, m_project.ref, email, phc, pepper_version, user_metadata_json)[0]
      .as<std::string>();
}

bool PendingSignupStore::is_live(pqxx::transaction_base& tx, const std::string& email) const {
  return !tx.exec_params("SELECT 1 FROM auth.pending_signups WHERE project_ref = $1 AND email = $2 "
                         "AND expires_at > now()",
                         m_project.ref, email)
              .empty();
}

std::optional<PendingSignupRow> PendingSignupStore::take_live(pqxx::transaction_base& tx,
                                                              const std::string& email) const {
  const pqxx::result r = tx.exec_params(
      "DELETE FROM auth.pending_signups WHERE project_ref = $1 AND email = $2 AND expires_at > now() "
      "RETURNING id::text, encrypted_password, pepper_version, raw_user_meta_data::text",
      m_project.ref, email);
  if (r.empty()) {
    return std::nullopt;
  }
  const pqxx::row row = r[0];
  return PendingSignupRow{row[0].as<std::string>(),
                          row[1].is_null() ? std::nullopt : std::optional<std::string>(row[1].as<std::string>()),
                          row[2].is_null() ? std::nullopt : std::optional<int>(row[2].as<int>()),
                          row[3].as<std::string>()};
}

}  // namespace orbitnest::authd
