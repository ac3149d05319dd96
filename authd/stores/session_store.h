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

// A refresh token that rotated: its user, session and session's methods.
struct Rotation {
  UserRecord user;
  std::string session_id;
  boost::json::array amr;  // newest first
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
  // last sign-in is now.
  void create(pqxx::transaction_base& tx, const std::string& session_id, const std::string& user_id,
              const std::string& amr_method, const std::string& user_agent, const std::string& ip,
              const std::string& refresh_token_hash) const;
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
  boost::json::array amr(pqxx::transaction_base& tx, const std::string& session_id) const;

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
