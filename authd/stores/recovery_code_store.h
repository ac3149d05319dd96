#pragma once
// A realm's MFA recovery codes (auth.mfa_recovery_codes /
// auth.admin_mfa_recovery_codes): only keyd's MACs of the codes are kept,
// with the MAC key version, so a stolen database yields no usable code.
#include <pqxx/pqxx>

#include <string>
#include <vector>

#include "authd/realms/realm.h"

namespace orbitnest::authd {

struct StoredRecoveryCode {
  std::string mac;  // keyd's MAC (bytes)
  int version;
};

class RecoveryCodeStore final {
 public:
  explicit RecoveryCodeStore(const Realm& realm) : m_tables(realm.tables()) {}

  // The user's codes become exactly `codes` (earlier ones die).
  void replace(pqxx::transaction_base& tx, const std::string& user_id,
               const std::vector<StoredRecoveryCode>& codes) const;
  // Spends the unused code with this MAC; false when none (or spent).
  bool spend(pqxx::transaction_base& tx, const std::string& user_id, const StoredRecoveryCode& code) const;
  // The MAC key versions of the user's unused codes (usually one).
  std::vector<int> versions(pqxx::transaction_base& tx, const std::string& user_id) const;
  int remaining(pqxx::transaction_base& tx, const std::string& user_id) const;
  void remove_all(pqxx::transaction_base& tx, const std::string& user_id) const;

 private:
  const RealmTables& m_tables;
};

}  // namespace orbitnest::authd
