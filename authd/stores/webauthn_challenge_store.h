#pragma once
// WebAuthn ceremonies in flight (auth.webauthn_challenges /
// auth.admin_webauthn_challenges, policy 0010): the challenge authd
// issued, for which realm, kind and user. Consuming deletes the row before
// anything is verified, so a challenge serves one attempt, whatever its
// outcome, and two requests racing with one challenge cannot both get it.
#include <pqxx/pqxx>

#include <optional>
#include <string>

#include "authd/realms/realm.h"

namespace orbitnest::authd {

inline constexpr int kWebAuthnChallengeSeconds = 300;

struct IssuedCeremony {
  std::string user_id;  // "" for a sign-in that named nobody (discoverable)
  bool expired = false;
};

class WebAuthnChallengeStore final {
 public:
  explicit WebAuthnChallengeStore(const Realm& realm) : m_realm(realm), m_tables(realm.tables()) {}

  // A fresh challenge (32 random bytes, base64url) for `kind`
  // ("registration" | "authentication"); purges a batch of expired ones.
  std::string issue(pqxx::transaction_base& tx, const std::string& kind, const std::string& user_id) const;
  std::optional<IssuedCeremony> consume(pqxx::transaction_base& tx, const std::string& challenge,
                                        const std::string& kind) const;

 private:
  const Realm& m_realm;
  const RealmTables& m_tables;
};

}  // namespace orbitnest::authd
