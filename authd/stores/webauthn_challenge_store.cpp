#include "authd/stores/webauthn_challenge_store.h"

#include "authd/security/random.h"

namespace orbitnest::authd {
std::string WebAuthnChallengeStore::issue(pqxx::transaction_base& tx, const std::string& kind,
                                          const std::string& user_id) const {
  // A bounded purge per issue keeps the table to what is in flight.
  tx.exec("DELETE FROM " + sql_name(m_tables.webauthn_challenges) + " WHERE challenge IN (SELECT challenge FROM " +
          sql_name(m_tables.webauthn_challenges) + " WHERE expires_at < now() LIMIT 100)");
  const std::string challenge = random_token(32);
  tx.exec_params("INSERT INTO " + sql_name(m_tables.webauthn_challenges) +
                     " (challenge, realm_ref, kind, user_id, expires_at) VALUES ($1, $2, $3, nullif($4, '')::uuid, "
                     "now() + make_interval(secs => $5))",
                 challenge, m_realm.name(), kind, user_id, kWebAuthnChallengeSeconds);
  return challenge;
}

std::optional<IssuedCeremony> WebAuthnChallengeStore::consume(pqxx::transaction_base& tx, const std::string& challenge,
                                                              const std::string& kind) const {
  if (challenge.empty() || challenge.size() > 512) {
    return std::nullopt;
  }
  const pqxx::result r = tx.exec_params("DELETE FROM " + sql_name(m_tables.webauthn_challenges) +
                                            " WHERE challenge = $1 AND realm_ref = $2 AND kind = $3 "
                                            "RETURNING coalesce(user_id::text, ''), expires_at < now()",
                                        challenge, m_realm.name(), kind);
  if (r.empty()) {
    return std::nullopt;
  }
  return IssuedCeremony{r[0][0].as<std::string>(), r[0][1].as<bool>()};
}

}  // namespace orbitnest::authd
