#include "authd/stores/passkey_store.h"

#include "authd/flows/user_record.h"

namespace orbitnest::authd {
namespace {


std::string bytes(const pqxx::field& f) { return f.is_null() ? std::string() : pqxx::binarystring(f).str(); }

// p: the passkeys table, u: the realm's users table.
constexpr const char* kColumns =
    "SELECT p.id::text, p.user_id::text, p.credential_id, p.public_key_cose, p.alg, p.sign_count, p.user_handle, "
    "coalesce(p.friendly_name, ''), p.aaguid, array_to_json(p.transports)::text, p.backup_eligible, p.backed_up, "
    "p.user_verified, p.attestation_format, p.attestation_type, p.attestation_trusted, "
    "to_char(p.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
    "coalesce(to_char(p.last_used_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), ''), "
    "coalesce(p.factor_id::text, '') FROM ";

std::vector<std::string> transports_of(const std::string& json_array) {
  std::vector<std::string> out;
  // array_to_json of text[]: ["usb","internal"]; values are short tokens.
  std::size_t at = 0;
  while ((at = json_array.find('"', at)) != std::string::npos) {
    const std::size_t end = json_array.find('"', at + 1);
    if (end == std::string::npos) break;
    out.push_back(json_array.substr(at + 1, end - at - 1));
    at = end + 1;
  }
  return out;
}

PasskeyRow row_of(const pqxx::row& r) {
  PasskeyRow p;
  p.id = r[0].as<std::string>();
  p.user_id = r[1].as<std::string>();
  p.credential_id = bytes(r[2]);
  p.public_key_cose = bytes(r[3]);
  p.alg = r[4].as<int>();
  p.sign_count = static_cast<std::uint32_t>(r[5].as<std::int64_t>());
  p.user_handle = bytes(r[6]);
  p.friendly_name = r[7].as<std::string>();
  p.aaguid = bytes(r[8]);
  p.transports = transports_of(r[9].as<std::string>());
  p.backup_eligible = r[10].as<bool>();
  p.backed_up = r[11].as<bool>();
  p.user_verified = r[12].as<bool>();
  p.attestation_format = r[13].as<std::string>();
  p.attestation_type = r[14].as<std::string>();
  p.attestation_trusted = r[15].as<bool>();
  p.created_at = r[16].as<std::string>();
  p.last_used_at = r[17].as<std::string>();
  p.factor_id = r[18].as<std::string>();
  return p;
}

std::string postgres_text_array(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    std::string quoted;
    for (char ch : items[i]) {
      if (ch == '"' || ch == '\\') quoted += '\\';
      quoted += ch;
    }
    out += (i ? ",\"" : "\"") + quoted + "\"";
  }
  return out + "}";
}

}  // namespace

int PasskeyStore::count(pqxx::transaction_base& tx, const std::string& user_id) const {
  return tx.exec_params1("SELECT count(*) FROM " + sql_name(m_tables.passkeys) + " WHERE user_id = $1::uuid AND factor_id IS NULL",
                          user_id)[0]
      .as<int>();
}

bool PasskeyStore::create(pqxx::transaction_base& tx, const PasskeyRow& row) const {
  return !tx.exec_params("INSERT INTO " + sql_name(m_tables.passkeys) +
                             " (id, user_id, credential_id, public_key_cose, alg, sign_count, user_handle, friendly_name, "
                             "aaguid, transports, backup_eligible, backed_up, user_verified, attestation_format, "
                             "attestation_type, attestation_trusted, factor_id) VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6, $7, "
                             "nullif($8, ''), $9, $10::text[], $11, $12, $13, $14, $15, $16, nullif($17, '')::uuid) "
                             "ON CONFLICT (credential_id) DO NOTHING RETURNING id",
                         row.id, row.user_id, pqxx::binarystring(row.credential_id),
                         pqxx::binarystring(row.public_key_cose), row.alg, static_cast<std::int64_t>(row.sign_count),
                         pqxx::binarystring(row.user_handle), row.friendly_name, pqxx::binarystring(row.aaguid),
                         postgres_text_array(row.transports), row.backup_eligible, row.backed_up, row.user_verified,
                         row.attestation_format, row.attestation_type, row.attestation_trusted, row.factor_id)
              .empty();
}

std::vector<PasskeyRow> PasskeyStore::list(pqxx::transaction_base& tx, const std::string& user_id,
                                           Credentials which) const {
  std::vector<PasskeyRow> out;
  const std::string only = which == Credentials::passkeys ? " AND p.factor_id IS NULL" : "";
  for (const pqxx::row& r :
       tx.exec_params(kColumns + sql_name(m_tables.passkeys) + " p JOIN " + sql_name(m_tables.users) + " u ON u.id = p.user_id AND u." +
                          sql_name(m_tables.realm_column) + " = $2 WHERE p.user_id = $1::uuid" + only + " ORDER BY p.created_at",
                      user_id, m_realm.ref)) {
    out.push_back(row_of(r));
  }
  return out;
}

std::optional<PasskeyRow> PasskeyStore::find(pqxx::transaction_base& tx, const std::string& user_id,
                                             const std::string& id) const {
  if (!is_uuid(id)) {
    return std::nullopt;
  }
  const pqxx::result r =
      tx.exec_params(kColumns + sql_name(m_tables.passkeys) + " p JOIN " + sql_name(m_tables.users) + " u ON u.id = p.user_id AND u." +
                         sql_name(m_tables.realm_column) +
                         " = $3 WHERE p.user_id = $1::uuid AND p.id = $2::uuid AND p.factor_id IS NULL",
                     user_id, id, m_realm.ref);
  return r.empty() ? std::nullopt : std::optional<PasskeyRow>(row_of(r[0]));
}

std::optional<PasskeyRow> PasskeyStore::find_by_credential(pqxx::transaction_base& tx,
                                                           const std::string& credential_id) const {
  const pqxx::result r = tx.exec_params(kColumns + sql_name(m_tables.passkeys) + " p JOIN " + sql_name(m_tables.users) +
                                            " u ON u.id = p.user_id AND u." + sql_name(m_tables.realm_column) +
                                            " = $2 WHERE p.credential_id = $1 FOR UPDATE OF p",
                                        pqxx::binarystring(credential_id), m_realm.ref);
  return r.empty() ? std::nullopt : std::optional<PasskeyRow>(row_of(r[0]));
}

std::optional<PasskeyRow> PasskeyStore::find_by_factor(pqxx::transaction_base& tx, const std::string& user_id,
                                                       const std::string& factor_id) const {
  const pqxx::result r = tx.exec_params(kColumns + sql_name(m_tables.passkeys) + " p JOIN " + sql_name(m_tables.users) +
                                            " u ON u.id = p.user_id AND u." + sql_name(m_tables.realm_column) +
                                            " = $3 WHERE p.user_id = $1::uuid AND p.factor_id = $2::uuid FOR UPDATE OF p",
                                        user_id, factor_id, m_realm.ref);
  return r.empty() ? std::nullopt : std::optional<PasskeyRow>(row_of(r[0]));
}

void PasskeyStore::record_use(pqxx::transaction_base& tx, const std::string& id, std::uint32_t sign_count,
                              bool backed_up) const {
  tx.exec_params("UPDATE " + sql_name(m_tables.passkeys) +
                     " SET sign_count = $2, backed_up = $3, last_used_at = now() WHERE id = $1::uuid",
                 id, static_cast<std::int64_t>(sign_count), backed_up);
}

bool PasskeyStore::rename(pqxx::transaction_base& tx, const std::string& user_id, const std::string& id,
                          const std::string& name) const {
  return find(tx, user_id, id) &&
         !tx.exec_params("UPDATE " + sql_name(m_tables.passkeys) +
                             " SET friendly_name = nullif($3, '') WHERE id = $1::uuid AND user_id = $2::uuid RETURNING id",
                         id, user_id, name)
              .empty();
}

std::optional<PasskeyRow> PasskeyStore::revoke(pqxx::transaction_base& tx, const std::string& user_id,
                                               const std::string& id, const std::string& revoked_by,
                                               const std::string& ip) const {
  std::optional<PasskeyRow> row = find(tx, user_id, id);
  if (!row) {
    return std::nullopt;
  }
  tx.exec_params("DELETE FROM " + sql_name(m_tables.passkeys) + " WHERE id = $1::uuid", id);
  tx.exec_params("INSERT INTO auth.passkey_revocations (realm_ref, user_id, passkey_id, credential_id, friendly_name, "
                 "revoked_by, ip) VALUES ($1, $2::uuid, $3::uuid, $4, nullif($5, ''), $6, nullif($7, '')::inet)",
                 m_realm.name(), user_id, id, pqxx::binarystring(row->credential_id), row->friendly_name, revoked_by, ip);
  return row;
}

}  // namespace orbitnest::authd
