#pragma once
// The users of one realm (auth.users for a project, auth.admin_users for
// the admins): every statement that reads or writes a user row is here,
// parameterised by the realm's tables and scoped to the realm in its WHERE.
// Flows read as the protocol; this reads as the data.
#include <boost/json.hpp>
#include <pqxx/pqxx>

#include <optional>
#include <string>
#include <vector>

#include "authd/db/pg_pool.h"
#include "authd/flows/user_record.h"
#include "authd/realms/realm.h"
#include "authd/security/password_hasher.h"

namespace orbitnest::authd {

// The other side of a pending email change that a consumed code names.
struct EmailChangeMatch {
  std::string user_id;
  bool is_new_address;     // the code went to the new address
  bool no_current_address; // the user had no address before
};

class UserStore final {
 public:
  explicit UserStore(const Realm& realm) : m_realm(realm), m_tables(realm.tables()) {}

  // Registers this store's prepared statements for both realms' tables.
  static void prepare_statements(PgPool& pg);
  // The SELECT list user_from_row() reads, for `tables`.
  static std::string columns(const RealmTables& tables);

  // `email` must be canonical (canonical_email()): compared byte for byte.
  std::optional<UserRecord> find_by_email(pqxx::transaction_base& tx, const std::string& email) const;
  std::optional<UserRecord> find_by_id(pqxx::transaction_base& tx, const std::string& id) const;
  // `phone` canonical (canonical_phone()).
  std::optional<UserRecord> find_by_phone(pqxx::transaction_base& tx, const std::string& phone) const;
  // A new user signed up with a phone number (confirmed by its SMS code),
  // and its phone identity.
  void create_with_phone(pqxx::transaction_base& tx, const std::string& id, const std::string& phone) const;
  void confirm_phone(pqxx::transaction_base& tx, const std::string& id) const;
  // One index probe, the same cost whether or not the address has a user.
  bool has_email(pqxx::transaction_base& tx, const std::string& email) const;
  // The user, if `session_id` is one of their live sessions, and that
  // session's stored assurance level (one read).
  struct SignedInRow {
    UserRecord user;
    std::string session_aal;
  };
  std::optional<SignedInRow> find_signed_in(pqxx::transaction_base& tx, const std::string& user_id,
                                            const std::string& session_id) const;
  // Takes the user's row lock for the rest of `tx`: changes to their
  // factors and codes happen one at a time.
  void lock(pqxx::transaction_base& tx, const std::string& id) const;

  // A new user with a confirmed email address and its email identity.
  // `hash` may be absent (a passwordless account).
  void create_confirmed(pqxx::transaction_base& tx, const std::string& id, const std::string& email,
                        const std::optional<std::string>& phc, std::optional<int> pepper_version,
                        const std::string& user_metadata_json) const;
  void set_password(pqxx::transaction_base& tx, const std::string& id, const PasswordHash& hash) const;
  void set_user_metadata(pqxx::transaction_base& tx, const std::string& id, const boost::json::object& data) const;
  void confirm_email(pqxx::transaction_base& tx, const std::string& id) const;
  // Banned users are refused at sign-in, refresh and every signed-in
  // request (403 user_banned); `banned` false lifts it.
  void set_banned(pqxx::transaction_base& tx, const std::string& id, bool banned) const;
  // Deletes the user with their sessions, tokens and identities.
  void remove(pqxx::transaction_base& tx, const std::string& id) const;
  // Every user of the realm, oldest first (for operators' listings).
  std::vector<UserRecord> list(pqxx::transaction_base& tx) const;
  void touch_sign_in(pqxx::transaction_base& tx, const std::string& id) const;

  // Email change: recorded, matched by a consumed code, confirmed side by
  // side (bit 1 new address, bit 2 current), then applied.
  void begin_email_change(pqxx::transaction_base& tx, const std::string& id, const std::string& new_email) const;
  std::optional<EmailChangeMatch> lock_email_change(pqxx::transaction_base& tx, const std::string& email) const;
  int confirm_email_change_side(pqxx::transaction_base& tx, const std::string& id, int side) const;
  bool new_email_taken(pqxx::transaction_base& tx, const std::string& id) const;
  // Applies the change; returns the user's new address.
  std::string apply_email_change(pqxx::transaction_base& tx, const std::string& id) const;

 private:
  const Realm& m_realm;
  const RealmTables& m_tables;
};

}  // namespace orbitnest::authd
