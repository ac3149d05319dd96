#include "authd/flows/user_record.h"

#include "authd/api/api_error.h"

namespace orbitnest::authd {
namespace {

std::optional<std::string> opt(const pqxx::field& f) {
  return f.is_null() ? std::nullopt : std::optional<std::string>(f.as<std::string>());
}

}  // namespace

bool is_uuid(std::string_view s) {
  if (s.size() != 36) {
    return false;
  }
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

UserRecord user_from_row(const pqxx::row& r) {
  UserRecord u;
  u.id = r["id"].as<std::string>();
  u.realm_ref = r["realm_ref"].as<std::string>();
  u.aud = r["aud"].as<std::string>();
  u.role = r["role"].as<std::string>();
  u.email = r["email"].as<std::string>();
  u.phone = r["phone"].as<std::string>();
  u.encrypted_password = opt(r["encrypted_password"]);
  u.pepper_version = r["pepper_version"].as<int>();
  u.email_confirmed_at = opt(r["email_confirmed_at"]);
  u.new_email = r["new_email"].as<std::string>();
  u.email_change_sent_at = opt(r["email_change_sent_at"]);
  u.last_sign_in_at = opt(r["last_sign_in_at"]);
  u.created_at = r["created_at"].as<std::string>();
  u.updated_at = r["updated_at"].as<std::string>();
  u.app_metadata = boost::json::parse(r["app_meta"].as<std::string>()).as_object();
  u.user_metadata = boost::json::parse(r["user_meta"].as<std::string>()).as_object();
  u.is_anonymous = r["is_anonymous"].as<bool>();
  u.banned = r["banned"].as<bool>();
  u.factors = boost::json::parse(r["factors"].as<std::string>()).as_array();
  u.recovery_codes_remaining = r["recovery_codes_remaining"].as<int>();
  return u;
}

bool UserRecord::has_verified_factor() const {
  for (const boost::json::value& f : factors) {
    if (f.at("status").as_string() == "verified") {
      return true;
    }
  }
  return false;
}

boost::json::object user_json(const UserRecord& u) {
  boost::json::object o;
  o["id"] = u.id;
  o["aud"] = u.aud;
  o["role"] = u.role;
  o["email"] = u.email;
  o["phone"] = u.phone;
  if (u.email_confirmed_at) {
    o["email_confirmed_at"] = *u.email_confirmed_at;
    o["confirmed_at"] = *u.email_confirmed_at;
  }
  if (u.last_sign_in_at) {
    o["last_sign_in_at"] = *u.last_sign_in_at;
  }
  if (!u.new_email.empty()) {
    o["new_email"] = u.new_email;
  }
  if (u.email_change_sent_at) {
    o["email_change_sent_at"] = *u.email_change_sent_at;
  }
  o["app_metadata"] = u.app_metadata;
  o["user_metadata"] = u.user_metadata;
  boost::json::array identities;
  if (!u.email.empty()) {
    identities.push_back(boost::json::object{
        {"identity_id", u.id},
        {"id", u.id},
        {"user_id", u.id},
        {"identity_data", boost::json::object{{"sub", u.id}, {"email", u.email}, {"email_verified", true}}},
        {"provider", "email"},
        {"email", u.email},
        {"created_at", u.created_at},
        {"updated_at", u.updated_at}});
  }
  if (!u.phone.empty()) {
    identities.push_back(boost::json::object{
        {"identity_id", u.id},
        {"id", u.id},
        {"user_id", u.id},
        {"identity_data", boost::json::object{{"sub", u.id}, {"phone", u.phone}, {"phone_verified", true}}},
        {"provider", "phone"},
        {"created_at", u.created_at},
        {"updated_at", u.updated_at}});
  }
  o["identities"] = identities;
  if (!u.factors.empty()) {
    o["factors"] = u.factors;  // GoTrue omits it when empty
    o["recovery_codes_remaining"] = u.recovery_codes_remaining;  // OrbitNest extension
  }
  o["created_at"] = u.created_at;
  o["updated_at"] = u.updated_at;
  o["is_anonymous"] = u.is_anonymous;
  return o;
}

void refuse_banned(const UserRecord& u, int status) {
  if (u.banned) {
    throw ApiError(status, "user_banned", "User is banned");
  }
}

}  // namespace orbitnest::authd
