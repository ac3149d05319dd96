#pragma once
// A realm's passkeys (auth.passkeys / auth.admin_passkeys, policy 0010).
// Every statement joins the realm's users table on its realm column, so a
// credential of another project or of the admins is never found here.
#include <pqxx/pqxx>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "authd/realms/realm.h"

namespace orbitnest::authd {

// More is a mistake or an attack; a real person has a handful.
inline constexpr int kMaxPasskeysPerUser = 25;

struct PasskeyRow {
  std::string id;
  std::string user_id;
  std::string credential_id;  // bytes
  std::string public_key_cose;  // bytes
  int alg = 0;
  std::uint32_t sign_count = 0;
  std::string user_handle;  // bytes
  std::string friendly_name;
  std::string aaguid;  // 16 bytes, or empty
  std::vector<std::string> transports;
  bool backup_eligible = false;
  bool backed_up = false;
  bool user_verified = false;
  std::string attestation_format;
  std::string attestation_type;
  bool attestation_trusted = false;
  std::string created_at;    // ISO 8601
  std::string last_used_at;  // "" when never used
  std::string factor_id;     // a webauthn MFA factor's credential ("" for a passkey)
};

// A user's credentials: their passkeys, or with the credentials of their
// webauthn factors too (what an authenticator must not register again).
enum class Credentials { passkeys, passkeys_and_factors };

class PasskeyStore final {
 public:
  explicit PasskeyStore(const Realm& realm) : m_realm(realm), m_tables(realm.tables()) {}

  // Passkeys only: a webauthn factor's credential is the factor's, not
  // counted, listed, found, renamed or revoked here.
  int count(pqxx::transaction_base& tx, const std::string& user_id) const;
  // False when the credential id is registered already (to anyone).
  bool create(pqxx::transaction_base& tx, const PasskeyRow& row) const;
  std::vector<PasskeyRow> list(pqxx::transaction_base& tx, const std::string& user_id,
                               Credentials which = Credentials::passkeys) const;
  std::optional<PasskeyRow> find(pqxx::transaction_base& tx, const std::string& user_id, const std::string& id) const;
  // The credential (a passkey's or a factor's: see factor_id), locked for
  // the rest of `tx` (a sign-in racing another with the same assertion
  // waits, then sees the new counter).
  std::optional<PasskeyRow> find_by_credential(pqxx::transaction_base& tx, const std::string& credential_id) const;
  // The credential of the user's webauthn factor, locked.
  std::optional<PasskeyRow> find_by_factor(pqxx::transaction_base& tx, const std::string& user_id,
                                           const std::string& factor_id) const;
  void record_use(pqxx::transaction_base& tx, const std::string& id, std::uint32_t sign_count, bool backed_up) const;
  bool rename(pqxx::transaction_base& tx, const std::string& user_id, const std::string& id,
              const std::string& name) const;
  // Deletes the passkey (its sessions end by cascade) and records who did.
  std::optional<PasskeyRow> revoke(pqxx::transaction_base& tx, const std::string& user_id, const std::string& id,
                                   const std::string& revoked_by, const std::string& ip) const;

 private:
  const Realm& m_realm;
  const RealmTables& m_tables;
};

}  // namespace orbitnest::authd
