#include "authd/stores/recovery_code_store.h"

#include "authd/security/random.h"

namespace orbitnest::authd {
void RecoveryCodeStore::replace(pqxx::transaction_base& tx, const std::string& user_id,
                                const std::vector<StoredRecoveryCode>& codes) const {
  remove_all(tx, user_id);
  for (const StoredRecoveryCode& code : codes) {
    tx.exec_params("INSERT INTO " + sql_name(m_tables.recovery_codes) +
                       " (id, user_id, code_mac, mac_version) VALUES ($1::uuid, $2::uuid, $3, $4)",
                   uuid_v4(), user_id, pqxx::binarystring(code.mac), code.version);
  }
}

bool RecoveryCodeStore::spend(pqxx::transaction_base& tx, const std::string& user_id,
                              const StoredRecoveryCode& code) const {
  // One statement: two requests spending one code cannot both succeed.
  return !tx.exec_params("UPDATE " + sql_name(m_tables.recovery_codes) +
                             " SET used_at = now() WHERE user_id = $1::uuid AND code_mac = $2 AND mac_version = $3 "
                             "AND used_at IS NULL RETURNING id",
                         user_id, pqxx::binarystring(code.mac), code.version)
              .empty();
}

std::vector<int> RecoveryCodeStore::versions(pqxx::transaction_base& tx, const std::string& user_id) const {
  std::vector<int> out;
  for (const pqxx::row& r : tx.exec_params("SELECT DISTINCT mac_version FROM " + sql_name(m_tables.recovery_codes) +
                                               " WHERE user_id = $1::uuid AND used_at IS NULL",
                                           user_id)) {
    out.push_back(r[0].as<int>());
  }
  return out;
}

int RecoveryCodeStore::remaining(pqxx::transaction_base& tx, const std::string& user_id) const {
  return tx.exec_params1("SELECT count(*) FROM " + sql_name(m_tables.recovery_codes) +
                             " WHERE user_id = $1::uuid AND used_at IS NULL",
                         user_id)[0]
      .as<int>();
}

void RecoveryCodeStore::remove_all(pqxx::transaction_base& tx, const std::string& user_id) const {
  tx.exec_params("DELETE FROM " + sql_name(m_tables.recovery_codes) + " WHERE user_id = $1::uuid", user_id);
}

}  // namespace orbitnest::authd
