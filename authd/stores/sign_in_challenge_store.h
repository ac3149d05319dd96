#pragma once
// Sign-ins waiting for their second factor (mfa_sign_in = challenge,
// policy 0009): a challenge token's SHA-256, its user, the first factor's
// method, the client address, wrong codes so far and the expiry.
#include <pqxx/pqxx>

#include <optional>
#include <string>

#include "authd/realms/realm.h"

namespace orbitnest::authd {

inline constexpr int kSignInChallengeSeconds = 300;
inline constexpr int kSignInChallengeAttempts = 5;

struct SignInChallengeRow {
  std::string user_id;
  std::string first_method;
  std::string ip;
  std::string user_agent;
  int attempts = 0;
  bool expired = false;
  std::string passkey_id;  // the first factor was this passkey ("" otherwise)
  std::string webauthn_challenge;  // for the user's webauthn factors ("" when they have none)
};

class SignInChallengeStore final {
 public:
  explicit SignInChallengeStore(const Realm& realm) : m_realm(realm), m_tables(realm.tables()) {}

  // Stores a challenge and returns its token (only its hash is kept).
  // `passkey_id`: the passkey that was the first factor, if one was (the
  // session the challenge becomes ends with it). `webauthn_challenge`: the
  // ceremony offered for the user's webauthn factors, if they have any.
  std::string create(pqxx::transaction_base& tx, const std::string& user_id, const std::string& first_method,
                     const std::string& ip, const std::string& user_agent, const std::string& passkey_id = "",
                     const std::string& webauthn_challenge = "") const;
  // The challenge of `token` for a user of this realm (a project's token
  // is nothing to another project), locked for the rest of `tx`.
  std::optional<SignInChallengeRow> lock(pqxx::transaction_base& tx, const std::string& token) const;
  // Counts a wrong code; returns the attempts made so far.
  int count_wrong_code(pqxx::transaction_base& tx, const std::string& token) const;
  void remove(pqxx::transaction_base& tx, const std::string& token) const;

 private:
  const Realm& m_realm;
  const RealmTables& m_tables;
};

}  // namespace orbitnest::authd
