#pragma once
// Sessions and their tokens: a session row per sign-in, opaque refresh
// tokens (stored as SHA-256) that rotate on every use, and access tokens
// signed by keyd with the claims GoTrue's clients expect.
//
// Rotation is one statement: the old token is revoked and its child
// inserted only if it was still live, under the row lock that UPDATE
// takes, so two concurrent refreshes of one token can never both win. A
// token that is already revoked is a replay: every session of the user is
// deleted (unless it comes within the project's grace period, for benign
// retries), and the caller gets refresh_token_already_used.
#include <boost/json.hpp>
#include <pqxx/pqxx>

#include <cstdint>
#include <string>

#include "authd/db/pg_pool.h"
#include "authd/flows/user_record.h"
#include "authd/keyd/keyd_link.h"
#include "authd/projects/project.h"

namespace orbitnest::authd {

struct NewSession {
  std::string session_id;
  std::string refresh_token;
};

class SessionIssuer final {
 public:
  explicit SessionIssuer(KeydLink& keyd) : m_keyd(keyd) {}
  // Registers the rotation statement (prepared once per connection).
  static void prepare_statements(PgPool& pg);

  NewSession create_session(pqxx::work& tx, const std::string& user_id, const std::string& amr_method,
                            const std::string& user_agent, const std::string& ip) const;
  // Rotates `refresh_token`: the user id and session id it belonged to and
  // the new token. Throws ApiError (refresh_token_not_found,
  // refresh_token_already_used) and commits the revocation of a replay.
  // The rotation returns, from the same single statement, the user and the
  // session's authentication methods, so that the whole refresh is one
  // round trip to Postgres and one to keyd.
  struct Rotated {
    UserRecord user;
    std::string session_id;
    std::string refresh_token;
    boost::json::array amr;
  };
  Rotated rotate(pqxx::connection& conn, const Project& project, const std::string& refresh_token) const;
  boost::json::object session_response(const Project& project, const Rotated& rotated) const;

  // The session response: access token (signed by keyd), refresh token,
  // expiry, and the user.
  boost::json::object session_response(pqxx::transaction_base& tx, const Project& project, const UserRecord& user,
                                       const std::string& session_id, const std::string& refresh_token) const;

 private:
  std::string sign_access_token(const Project& project, const UserRecord& user, const std::string& session_id,
                                const boost::json::array& amr, std::int64_t now, std::int64_t exp) const;
  boost::json::object response(const Project& project, const UserRecord& user, const std::string& session_id,
                               const std::string& refresh_token, const boost::json::array& amr) const;
  KeydLink& m_keyd;
};

std::string sha256_bytes(const std::string& data);

}  // namespace orbitnest::authd
