#pragma once
// A user as stored in a realm's users table (auth.users, auth.admin_users),
// and its JSON in GoTrue's shape.
#include <boost/json.hpp>
#include <pqxx/pqxx>

#include <optional>
#include <string>
#include <string_view>

namespace orbitnest::authd {

struct UserRecord {
  std::string id;
  std::string realm_ref;  // project ref, or "admin"
  std::string aud;
  std::string role;
  std::string email;
  std::string phone;
  std::optional<std::string> encrypted_password;
  int pepper_version = 0;
  std::optional<std::string> email_confirmed_at;
  std::optional<std::string> last_sign_in_at;
  std::string created_at;
  std::string updated_at;
  boost::json::object app_metadata;
  boost::json::object user_metadata;
  bool is_anonymous = false;
  std::string new_email;  // an email change waiting for its codes, or ""
  std::optional<std::string> email_change_sent_at;
  bool banned = false;  // banned_until lies in the future
  boost::json::array factors;  // GoTrue's factor objects, oldest first
  int recovery_codes_remaining = 0;

  // True when a factor is verified: sign-in then needs the second factor.
  bool has_verified_factor() const;
};

// A row with UserStore::columns().
UserRecord user_from_row(const pqxx::row& r);
// GoTrue's user JSON (identities included; factors when there are any).
boost::json::object user_json(const UserRecord& u);

bool is_uuid(std::string_view s);

// Throws ApiError 403 user_banned (GoTrue's answer) when the user is banned.
void refuse_banned(const UserRecord& u, int status = 403);

}  // namespace orbitnest::authd
