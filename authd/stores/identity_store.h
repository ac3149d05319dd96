#pragma once
// A realm's identities at other providers (auth.identities /
// auth.admin_identities): which user a provider's subject is, linking a
// subject to a user, and the provider list in the user's app metadata.
#include <boost/json.hpp>
#include <pqxx/pqxx>

#include <optional>
#include <string>

#include "authd/realms/realm.h"

namespace orbitnest::authd {

class IdentityStore final {
 public:
  explicit IdentityStore(const Realm& realm) : m_realm(realm), m_tables(realm.tables()) {}

  // The realm's user `subject` at `provider` is linked to, if any.
  std::optional<std::string> user_of(pqxx::transaction_base& tx, const std::string& provider,
                                     const std::string& subject) const;
  // Links the subject to the user (false when it is linked already, to
  // anyone: a racing link) and adds the provider to app_metadata.providers.
  bool link(pqxx::transaction_base& tx, const std::string& user_id, const std::string& provider,
            const std::string& subject, const boost::json::object& identity_data) const;
  // A sign-in through the identity: its time and the provider's latest data.
  void touch(pqxx::transaction_base& tx, const std::string& provider, const std::string& subject,
             const boost::json::object& identity_data) const;

 private:
  const Realm& m_realm;
  const RealmTables& m_tables;
};

}  // namespace orbitnest::authd
