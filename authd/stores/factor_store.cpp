#include "authd/stores/factor_store.h"

#include "authd/flows/user_record.h"
#include "authd/security/random.h"

namespace orbitnest::authd {
void FactorStore::purge_stale_unverified(pqxx::transaction_base& tx, const std::string& user_id) const {
  tx.exec_params("DELETE FROM " + sql_name(m_tables.factors) +
                     " WHERE user_id = $1::uuid AND status = 'unverified' AND created_at < now() - make_interval(secs => $2)",
                 user_id, kUnverifiedFactorSeconds);
}

int FactorStore::count(pqxx::transaction_base& tx, const std::string& user_id) const {
  return tx.exec_params1("SELECT count(*) FROM " + sql_name(m_tables.factors) + " WHERE user_id = $1::uuid", user_id)[0]
      .as<int>();
}

bool FactorStore::name_taken(pqxx::transaction_base& tx, const std::string& user_id, const std::string& name) const {
  return !tx.exec_params("SELECT 1 FROM " + sql_name(m_tables.factors) + " WHERE user_id = $1::uuid AND friendly_name = $2",
                         user_id, name)
              .empty();
}

void FactorStore::create(pqxx::transaction_base& tx, const std::string& id, const std::string& user_id,
                         const std::string& factor_type, const std::string& friendly_name,
                         const std::string& sealed) const {
  tx.exec_params("INSERT INTO " + sql_name(m_tables.factors) +
                     " (id, user_id, factor_type, friendly_name, sealed_secret) VALUES ($1::uuid, $2::uuid, $3, "
                     "nullif($4, ''), $5)",
                 id, user_id, factor_type, friendly_name, pqxx::binarystring(sealed));
}

namespace {

FactorRow factor_from_row(const pqxx::row& row) {
  return FactorRow{row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(),
                   row[3].as<std::string>(),
                   row[4].is_null() ? std::string() : pqxx::binarystring(row[4]).str(),
                   static_cast<std::uint64_t>(row[5].as<std::int64_t>())};
}

constexpr const char* kFactorColumns =
    "SELECT id::text, factor_type, status, coalesce(friendly_name, ''), sealed_secret, last_used_step FROM ";

}  // namespace

std::vector<FactorRow> FactorStore::verified(pqxx::transaction_base& tx, const std::string& user_id) const {
  std::vector<FactorRow> out;
  for (const pqxx::row& row : tx.exec_params(kFactorColumns + sql_name(m_tables.factors) +
                                                 " WHERE user_id = $1::uuid AND status = 'verified' ORDER BY created_at",
                                             user_id)) {
    out.push_back(factor_from_row(row));
  }
  return out;
}

std::optional<FactorRow> FactorStore::find(pqxx::transaction_base& tx, const std::string& user_id,
                                           const std::string& factor_id, bool lock) const {
  if (!is_uuid(factor_id)) {
    return std::nullopt;
  }
  const pqxx::result r = tx.exec_params(
      kFactorColumns + sql_name(m_tables.factors) +
          " WHERE id = $1::uuid AND user_id = $2::uuid AND (status = 'verified' OR created_at > now() - "
          "make_interval(secs => $3))" +
          (lock ? " FOR UPDATE" : ""),
      factor_id, user_id, kUnverifiedFactorSeconds);
  if (r.empty()) {
    return std::nullopt;
  }
  return factor_from_row(r[0]);
}

void FactorStore::remove(pqxx::transaction_base& tx, const std::string& factor_id) const {
  tx.exec_params("DELETE FROM " + sql_name(m_tables.factors) + " WHERE id = $1::uuid", factor_id);
}

void FactorStore::remove_other_unverified(pqxx::transaction_base& tx, const std::string& user_id,
                                          const std::string& keep) const {
  tx.exec_params("DELETE FROM " + sql_name(m_tables.factors) +
                     " WHERE user_id = $1::uuid AND id <> $2::uuid AND status = 'unverified'",
                 user_id, keep);
}

bool FactorStore::accept_step(pqxx::transaction_base& tx, const std::string& factor_id, std::uint64_t step) const {
  return !tx.exec_params("UPDATE " + sql_name(m_tables.factors) +
                             " SET last_used_step = $2, status = 'verified', updated_at = now() "
                             "WHERE id = $1::uuid AND last_used_step < $2 RETURNING id",
                         factor_id, static_cast<std::int64_t>(step))
              .empty();
}

bool FactorStore::mark_verified(pqxx::transaction_base& tx, const std::string& factor_id) const {
  return !tx.exec_params("UPDATE " + sql_name(m_tables.factors) +
                             " SET status = 'verified', updated_at = now() WHERE id = $1::uuid AND status = 'unverified' "
                             "RETURNING id",
                         factor_id)
              .empty();
}

std::string FactorStore::create_challenge(pqxx::transaction_base& tx, const std::string& factor_id,
                                          const std::string& ip, const std::string& webauthn_challenge) const {
  const std::string id = uuid_v4();
  tx.exec_params("INSERT INTO " + sql_name(m_tables.challenges) +
                     " (id, factor_id, ip, webauthn_challenge) VALUES ($1::uuid, $2::uuid, nullif($3, '')::inet, "
                     "nullif($4, ''))",
                 id, factor_id, ip, webauthn_challenge);
  tx.exec_params("UPDATE " + sql_name(m_tables.factors) + " SET last_challenged_at = now() WHERE id = $1::uuid", factor_id);
  return id;
}

std::optional<ChallengeRow> FactorStore::find_challenge(pqxx::transaction_base& tx, const std::string& factor_id,
                                                        const std::string& challenge_id) const {
  if (!is_uuid(challenge_id)) {
    return std::nullopt;
  }
  const pqxx::result r = tx.exec_params(
      "SELECT id::text, coalesce(host(ip), ''), created_at < now() - make_interval(secs => $3), "
      "verified_at IS NOT NULL, coalesce(webauthn_challenge, '') FROM " +
          sql_name(m_tables.challenges) + " WHERE id = $1::uuid AND factor_id = $2::uuid FOR UPDATE",
      challenge_id, factor_id, kChallengeSeconds);
  if (r.empty()) {
    return std::nullopt;
  }
  return ChallengeRow{r[0][0].as<std::string>(), r[0][1].as<std::string>(), r[0][2].as<bool>(), r[0][3].as<bool>(),
                      r[0][4].as<std::string>()};
}

void FactorStore::finish_challenge(pqxx::transaction_base& tx, const std::string& challenge_id) const {
  tx.exec_params("UPDATE " + sql_name(m_tables.challenges) + " SET verified_at = now() WHERE id = $1::uuid", challenge_id);
}

void FactorStore::remove_challenge(pqxx::transaction_base& tx, const std::string& challenge_id) const {
  tx.exec_params("DELETE FROM " + sql_name(m_tables.challenges) + " WHERE id = $1::uuid", challenge_id);
}

}  // namespace orbitnest::authd
