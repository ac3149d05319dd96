#pragma once
// The sessions of one realm, their refresh tokens (stored as SHA-256) and
// their authentication methods (amr): every statement on those tables is
// here, parameterised by the realm's tables and scoped to the realm.
#include <boost/json.hpp>
#include <pqxx/pqxx>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "authd/db/pg_pool.h"
#include "authd/flows/user_record.h"
#include "authd/realms/realm.h"

namespace orbitnest::authd {

// How a session was authenticated: its assurance level, stored on the
// session when a second factor raised it (never recomputed from method
// names), and its methods (the amr claim), newest first.
struct SessionAuth {
  std::string aal = "aal1";
  boost::json::array amr;
};

// A refresh token that rotated: its user, session and how it was signed in.
struct Rotation {
  UserRecord user;
  std::string session_id;
  SessionAuth auth;
};

// A refresh token that was already rotated (presented again).
struct UsedRefreshToken {
  std::int64_t id;
  std::string user_id;
  std::string session_id;
  std::optional<int> child_mac_version;  // none: rotated before policy 0007
  bool in_reuse_window;
};

struct SessionInfo {
  std::string id;
  std::string created_at;
  std::string refreshed_at;  // "" when never refreshed
  std::string user_agent;
  std::string ip;
  std::string aal;
};

class SessionStore final {
 public:
  explicit SessionStore(const Realm& realm) : m_realm(realm), m_tables(realm.tables()) {}
  static void prepare_statements(PgPool& pg);

  // A session, its first method and its first refresh token; the user's
  // last sign-in is now. With single_session_per_user, the user's other
  // sessions end.
  void create(pqxx::transaction_base& tx, const std::string& session_id, const std::string& user_id,
              const std::string& amr_method, const std::string& user_agent, const std::string& ip,
              const std::string& refresh_token_hash) const;
  // Ends the session of refresh token `token_hash` if it is over its
  // realm's timebox or inactivity timeout (its tokens go with it); true
  // when it did. Costs nothing when the realm sets neither.
  bool end_if_expired(pqxx::transaction_base& tx, const std::string& token_hash) const;
  // Revokes the live token `parent_hash` (recording the MAC key version
  // that made its child), inserts the child and touches the session, in
  // one statement; nullopt when the parent is not a live token.
  std::optional<Rotation> rotate(pqxx::transaction_base& tx, const std::string& parent_hash,
                                 const std::string& child_hash, int child_mac_version) const;
  std::optional<UsedRefreshToken> find_used(pqxx::transaction_base& tx, const std::string& token_hash,
                                            int reuse_seconds) const;
  // True when `child_hash` is `parent_id`'s child and still unused; waits
  // for a rotation of it in flight (FOR SHARE).
  bool child_unused(pqxx::transaction_base& tx, const std::string& child_hash, std::int64_t parent_id) const;
  SessionAuth auth_of(pqxx::transaction_base& tx, const std::string& session_id) const;
  // A second factor verified in this session: its method joins the amr,
  // the session becomes aal2 (factor_id records which factor raised it;
  // "" for a recovery code).
  void raise_to_aal2(pqxx::transaction_base& tx, const std::string& session_id, const std::string& factor_id,
                     const std::string& method) const;
  // The sessions a factor raised fall back to aal1 when it is removed.
  void lower_raised_by(pqxx::transaction_base& tx, const std::string& factor_id, const std::string& method) const;
  // Every live refresh token of the session is revoked and `token_hash`
  // becomes its only one (a pre-MFA token must not mint aal2 tokens).
  void replace_refresh_token(pqxx::transaction_base& tx, const std::string& session_id, const std::string& user_id,
                             const std::string& token_hash) const;
  // The user's other sessions below aal2 end (GoTrue does the same when a
  // factor is verified).
  void delete_other_low_aal(pqxx::transaction_base& tx, const std::string& user_id, const std::string& keep) const;

  // The passkey the session signed in with (revoking it ends the session).
  void link_passkey(pqxx::transaction_base& tx, const std::string& session_id, const std::string& passkey_id) const;

  std::vector<SessionInfo> list(pqxx::transaction_base& tx, const std::string& user_id) const;
  // Returns whether the session was the user's and existed.
  bool delete_one(pqxx::transaction_base& tx, const std::string& user_id, const std::string& session_id) const;
  void delete_others(pqxx::transaction_base& tx, const std::string& user_id, const std::string& keep) const;
  void delete_all(pqxx::transaction_base& tx, const std::string& user_id) const;

 private:
  const Realm& m_realm;
  const RealmTables& m_tables;
};

}  // namespace orbitnest::authd
