#pragma once
// Sessions and their tokens, for every realm (SessionStore holds the SQL): a session row per sign-in, opaque refresh
// tokens (stored as SHA-256) that rotate on every use, and access tokens
// signed by keyd with the claims GoTrue's clients expect.
//
// A refresh succeeds completely or changes nothing: the old token is
// revoked and its child inserted in one statement (under the row lock its
// UPDATE takes, so two concurrent refreshes of one token never both
// rotate), the access token is signed by keyd inside that transaction, and
// only then does it commit. A child is not random: it is keyd's MAC of its
// parent (purpose "refresh_token"), so a client that retries a refresh
// whose answer it lost gets the same child back, within the realm's
// refresh_reuse_seconds of the rotation and while that child is unused.
// Any other used token is a replay: every session of the user is deleted
// and the caller gets refresh_token_already_used.
#include <boost/json.hpp>
#include <pqxx/pqxx>

#include <cstdint>
#include <string>

#include "authd/db/pg_pool.h"
#include "authd/flows/user_record.h"
#include "authd/keyd/keyd_link.h"
#include "authd/realms/realm.h"
#include "authd/stores/session_store.h"

namespace orbitnest::authd {

struct NewSession {
  std::string session_id;
  std::string refresh_token;
};

class SessionIssuer final {
 public:
  explicit SessionIssuer(KeydLink& keyd) : m_keyd(keyd) {}
  NewSession create_session(pqxx::work& tx, const Realm& realm, const std::string& user_id, const std::string& amr_method,
                            const std::string& user_agent, const std::string& ip) const;
  // A fresh refresh token for an existing session, which becomes its only
  // live one (after a second factor raised the session).
  std::string replace_refresh_token(pqxx::work& tx, const Realm& realm, const std::string& session_id,
                                    const std::string& user_id) const;
  // The refresh grant: rotates `refresh_token` (or hands back its unused
  // child, see above) and answers the session response. Throws ApiError
  // (validation_failed, refresh_token_not_found, refresh_token_already_used
  // after committing the revocation of a replay, 503 when the commit's
  // outcome is unknown: retrying the same token is then safe).
  boost::json::object refresh(pqxx::connection& conn, const Realm& realm, const std::string& refresh_token) const;

  // The session response: access token (signed by keyd), refresh token,
  // expiry, and the user.
  boost::json::object session_response(pqxx::transaction_base& tx, const Realm& realm, const UserRecord& user,
                                       const std::string& session_id, const std::string& refresh_token) const;

 private:
  std::string sign_access_token(const Realm& realm, const UserRecord& user, const std::string& session_id,
                                const SessionAuth& auth, std::int64_t now, std::int64_t exp) const;
  boost::json::object response(const Realm& realm, const UserRecord& user, const std::string& session_id,
                               const std::string& refresh_token, const SessionAuth& auth) const;
  // keyd's MAC of `parent` with key `version` (0 = current; the one used is
  // set): the child token, the same every time for one parent and key.
  std::string derive_child(const std::string& parent, int version, int* used_version) const;
  // The refresh of a token that did not rotate: unknown, a retry in the
  // reuse window (the same child again), or a replay.
  boost::json::object reuse_or_revoke(pqxx::connection& conn, const Realm& realm, const std::string& token,
                                      const std::string& child, int child_version) const;
  KeydLink& m_keyd;
};

std::string sha256_bytes(const std::string& data);

}  // namespace orbitnest::authd
