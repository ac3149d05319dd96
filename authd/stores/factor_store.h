#pragma once
// A realm's MFA factors and their challenges (auth.mfa_factors /
// auth.admin_mfa_factors, policy 0009). Seeds are stored only as keyd's
// sealed blobs; codes are checked by keyd, never here.
#include <pqxx/pqxx>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "authd/realms/realm.h"

namespace orbitnest::authd {

// GoTrue's limits: at most this many factors a user, and an unverified
// factor or a challenge lives this long.
inline constexpr int kMaxFactorsPerUser = 10;
inline constexpr int kUnverifiedFactorSeconds = 300;
inline constexpr int kChallengeSeconds = 300;

struct FactorRow {
  std::string id;
  std::string factor_type;  // "totp" | "webauthn"
  std::string status;       // "unverified" | "verified"
  std::string friendly_name;
  std::string sealed_secret;  // keyd's blob (bytes)
  std::uint64_t last_used_step = 0;
};

struct ChallengeRow {
  std::string id;
  std::string ip;  // the address that asked for it ("" when unknown)
  bool expired = false;
  bool verified = false;
  std::string webauthn_challenge;  // a webauthn factor's ceremony ("" otherwise)
};

class FactorStore final {
 public:
  explicit FactorStore(const Realm& realm) : m_tables(realm.tables()) {}

  // Unverified factors older than kUnverifiedFactorSeconds go first.
  void purge_stale_unverified(pqxx::transaction_base& tx, const std::string& user_id) const;
  int count(pqxx::transaction_base& tx, const std::string& user_id) const;
  bool name_taken(pqxx::transaction_base& tx, const std::string& user_id, const std::string& name) const;
  void create(pqxx::transaction_base& tx, const std::string& id, const std::string& user_id,
              const std::string& factor_type, const std::string& friendly_name, const std::string& sealed) const;
  // The user's factor, locked for the rest of `tx` (FOR UPDATE) when asked;
  // an unverified one older than kUnverifiedFactorSeconds is gone.
  std::optional<FactorRow> find(pqxx::transaction_base& tx, const std::string& user_id, const std::string& factor_id,
                                bool lock = false) const;
  // The user's verified factors, oldest first.
  std::vector<FactorRow> verified(pqxx::transaction_base& tx, const std::string& user_id) const;
  void remove(pqxx::transaction_base& tx, const std::string& factor_id) const;
  // Every other unverified factor (of any type), once one is verified:
  // one enrolled earlier, perhaps by a thief of the first factor, must
  // not become a second factor later.
  void remove_other_unverified(pqxx::transaction_base& tx, const std::string& user_id, const std::string& keep) const;
  // Records `step` as the factor's newest accepted time step and marks it
  // verified; false when a step as new was accepted before (a replay, or a
  // verification racing this one).
  bool accept_step(pqxx::transaction_base& tx, const std::string& factor_id, std::uint64_t step) const;

  // A webauthn factor whose credential was just registered; false when
  // it was verified already.
  bool mark_verified(pqxx::transaction_base& tx, const std::string& factor_id) const;

  std::string create_challenge(pqxx::transaction_base& tx, const std::string& factor_id, const std::string& ip,
                               const std::string& webauthn_challenge = "") const;
  std::optional<ChallengeRow> find_challenge(pqxx::transaction_base& tx, const std::string& factor_id,
                                             const std::string& challenge_id) const;
  void finish_challenge(pqxx::transaction_base& tx, const std::string& challenge_id) const;
  void remove_challenge(pqxx::transaction_base& tx, const std::string& challenge_id) const;

 private:
  const RealmTables& m_tables;
};

}  // namespace orbitnest::authd
