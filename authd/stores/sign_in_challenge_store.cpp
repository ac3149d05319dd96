#include "authd/stores/sign_in_challenge_store.h"

#include "authd/flows/session_issuer.h"
#include "authd/security/random.h"

namespace orbitnest::authd {
namespace {


constexpr std::size_t kTokenBytes = 32;

}  // namespace

std::string SignInChallengeStore::create(pqxx::transaction_base& tx, const std::string& user_id,
                                         const std::string& first_method, const std::string& ip,
                                         const std::string& user_agent, const std::string& passkey_id,
                                         const std::string& webauthn_challenge) const {
  std::string token = random_token(kTokenBytes);
  // Expired ones of anybody go at the same time: the table stays small.
  tx.exec("DELETE FROM " + sql_name(m_tables.sign_in_challenges) + " WHERE expires_at < now() - interval '1 hour'");
  tx.exec_params("INSERT INTO " + sql_name(m_tables.sign_in_challenges) +
                     " (token_hash, user_id, first_method, ip, user_agent, expires_at, passkey_id, webauthn_challenge) "
                     "VALUES ($1, $2::uuid, $3, nullif($4, '')::inet, $5, now() + make_interval(secs => $6), "
                     "nullif($7, '')::uuid, nullif($8, ''))",
                 pqxx::binarystring(sha256_bytes(token)), user_id, first_method, ip, user_agent.substr(0, 512),
                 kSignInChallengeSeconds, passkey_id, webauthn_challenge);
  return token;
}

std::optional<SignInChallengeRow> SignInChallengeStore::lock(pqxx::transaction_base& tx,
                                                             const std::string& token) const {
  const pqxx::result r = tx.exec_params(
      "SELECT c.user_id::text, c.first_method, coalesce(host(c.ip), ''), coalesce(c.user_agent, ''), c.attempts, "
      "c.expires_at < now(), coalesce(c.passkey_id::text, ''), coalesce(c.webauthn_challenge, '') FROM " +
          sql_name(m_tables.sign_in_challenges) + " c JOIN " + sql_name(m_tables.users) + " u ON u.id = c.user_id " +
          "WHERE c.token_hash = $1 AND u." + sql_name(m_tables.realm_column) + " = $2 FOR UPDATE OF c",
      pqxx::binarystring(sha256_bytes(token)), m_realm.ref);
  if (r.empty()) {
    return std::nullopt;
  }
  const pqxx::row row = r[0];
  return SignInChallengeRow{row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(),
                            row[3].as<std::string>(), row[4].as<int>(), row[5].as<bool>(), row[6].as<std::string>(),
                            row[7].as<std::string>()};
}

int SignInChallengeStore::count_wrong_code(pqxx::transaction_base& tx, const std::string& token) const {
  return tx.exec_params1("UPDATE " + sql_name(m_tables.sign_in_challenges) +
                             " SET attempts = attempts + 1 WHERE token_hash = $1 RETURNING attempts",
                         pqxx::binarystring(sha256_bytes(token)))[0]
      .as<int>();
}

void SignInChallengeStore::remove(pqxx::transaction_base& tx, const std::string& token) const {
  tx.exec_params("DELETE FROM " + sql_name(m_tables.sign_in_challenges) + " WHERE token_hash = $1",
                 pqxx::binarystring(sha256_bytes(token)));
}

}  // namespace orbitnest::authd
