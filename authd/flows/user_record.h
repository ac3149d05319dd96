#pragma once
// A project user as stored in auth.users, and its JSON in GoTrue's shape.
#include <boost/json.hpp>
#include <pqxx/pqxx>

#include <optional>
#include <string>
#include <string_view>

namespace orbitnest::authd {

struct UserRecord {
  std::string id;
  std::string project_ref;
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
};

// The columns user_from_row() expects, for SELECT lists.
inline constexpr const char* kUserColumns =
    "id::text, project_ref, aud, role, coalesce(email, '') AS email, coalesce(phone, '') AS phone, "
    "encrypted_password, coalesce(pepper_version, 0) AS pepper_version, "
    "to_char(email_confirmed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS email_confirmed_at, "
    "to_char(last_sign_in_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS last_sign_in_at, "
    "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS created_at, "
    "to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS updated_at, "
    "raw_app_meta_data::text AS app_meta, raw_user_meta_data::text AS user_meta, is_anonymous, "
    "coalesce(email_change, '') AS new_email, "
    "to_char(email_change_sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS email_change_sent_at, "
    "coalesce(banned_until > now(), false) AS banned";

UserRecord user_from_row(const pqxx::row& r);
// `email` must be canonical (canonical_email()): compared byte for byte.
std::optional<UserRecord> find_user_by_email(pqxx::transaction_base& tx, const std::string& ref,
                                             const std::string& email);
std::optional<UserRecord> find_user_by_id(pqxx::transaction_base& tx, const std::string& ref, const std::string& id);

// GoTrue's user JSON (identities included; factors when there are any).
boost::json::object user_json(const UserRecord& u);

bool is_uuid(std::string_view s);

// Throws ApiError 403 user_banned (GoTrue's answer) when the user is banned.
void refuse_banned(const UserRecord& u, int status = 403);

}  // namespace orbitnest::authd
