#pragma once
// Sign-ups waiting for their code (auth.pending_signups): no user row
// exists before the address is proved. A project's; the admin realm has
// no open sign-up (admins are made on the box).
#include <pqxx/pqxx>

#include <optional>
#include <string>

#include "authd/projects/project.h"

namespace orbitnest::authd {

struct PendingSignupRow {
  std::string id;  // the id the account will have (what /signup answered)
  std::optional<std::string> encrypted_password;
  std::optional<int> pepper_version;
  std::string user_metadata_json;
};

class PendingSignupStore final {
 public:
  explicit PendingSignupStore(const Project& project) : m_project(project) {}

  // Stores or refreshes the pending sign-up of `email` and returns its id.
  // A password-less request (no `phc`) drops a pending password and locks
  // the row against later ones until it is verified or expires; otherwise
  // the password is the one of the latest request. The id stays while the
  // row lives. Expires in a day.
  std::string upsert(pqxx::transaction_base& tx, const std::string& new_id, const std::string& email,
                     const std::optional<std::string>& phc, std::optional<int> pepper_version,
                     const std::string& user_metadata_json) const;
  bool is_live(pqxx::transaction_base& tx, const std::string& email) const;
  // Removes the live pending sign-up of `email` and returns it.
  std::optional<PendingSignupRow> take_live(pqxx::transaction_base& tx, const std::string& email) const;

 private:
  const Project& m_project;
};

}  // namespace orbitnest::authd
