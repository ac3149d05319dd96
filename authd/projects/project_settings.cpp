#include <algorithm>
#include <cctype>
#include <span>
#include <stdexcept>
#include <string_view>

#include "authd/api/api_error.h"
#include "authd/flows/phone_number.h"
#include "authd/projects/project.h"

namespace orbitnest::authd {
namespace {

int int_in(const boost::json::object& o, const char* key, int fallback, int min, int max) {
  const boost::json::value* v = o.if_contains(key);
  if (v == nullptr) {
    return fallback;
  }
  if (!v->is_int64() || v->as_int64() < min || v->as_int64() > max) {
    throw std::invalid_argument(std::string(key) + " must be an integer from " + std::to_string(min) + " to " +
                                std::to_string(max));
  }
  return static_cast<int>(v->as_int64());
}

bool bool_of(const boost::json::object& o, const char* key, bool fallback) {
  const boost::json::value* v = o.if_contains(key);
  if (v == nullptr) {
    return fallback;
  }
  if (!v->is_bool()) {
    throw std::invalid_argument(std::string(key) + " must be true or false");
  }
  return v->as_bool();
}

std::string string_of(const boost::json::object& o, const char* key, const std::string& fallback) {
  const boost::json::value* v = o.if_contains(key);
  if (v == nullptr) {
    return fallback;
  }
  if (!v->is_string()) {
    throw std::invalid_argument(std::string(key) + " must be a string");
  }
  return std::string(v->as_string());
}

// site_url: an http(s) URL; redirect_urls may also name an app's own
// scheme (io.example.app://callback), never a scripting one. No spaces or
// control characters: these URLs end up in mail bodies.
void check_url(const std::string& key, const std::string& url, bool app_schemes) {
  const std::size_t sep = url.find("://");
  std::string scheme = url.substr(0, sep == std::string::npos ? 0 : sep);
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char ch) { return std::tolower(ch); });
  const bool web = scheme == "http" || scheme == "https";
  const bool app = app_schemes && !scheme.empty() && std::isalpha(static_cast<unsigned char>(scheme[0])) &&
                   std::all_of(scheme.begin(), scheme.end(), [](unsigned char ch) {
                     return std::isalnum(ch) || ch == '+' || ch == '-' || ch == '.';
                   }) &&
                   scheme != "javascript" && scheme != "data" && scheme != "vbscript" && scheme != "file";
  if (!(web || app) || url.size() > 2048 || url.size() == sep + 3 ||
      std::any_of(url.begin(), url.end(), [](unsigned char ch) { return ch <= ' ' || ch == 0x7f; })) {
    throw std::invalid_argument(key + (app_schemes ? " must be URLs (http, https or an app's own scheme)"
                                                   : " must be an http:// or https:// URL"));
  }
}

// exposed_schemas: plain lower-case names, at most 16, never one of the
// schemas Postgres or authd keep for themselves.
std::vector<std::string> exposed_schemas_of(const boost::json::value& v) {
  const char* const what = "exposed_schemas must be an array of up to 16 lower-case schema names";
  if (!v.is_array() || v.as_array().size() > 16) {
    throw std::invalid_argument(what);
  }
  std::vector<std::string> out;
  for (const boost::json::value& item : v.as_array()) {
    if (!item.is_string()) {
      throw std::invalid_argument(what);
    }
    const std::string name(item.as_string());
    const bool plain = !name.empty() && name.size() <= 63 && !std::isdigit(static_cast<unsigned char>(name[0])) &&
                       std::all_of(name.begin(), name.end(), [](unsigned char ch) {
                         return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
                       });
    if (!plain) {
      throw std::invalid_argument(what);
    }
    if (name == "auth" || name == "information_schema" || name.rfind("pg_", 0) == 0) {
      throw std::invalid_argument("exposed_schemas: " + name + " may never be exposed");
    }
    if (std::find(out.begin(), out.end(), name) != out.end()) {
      throw std::invalid_argument("exposed_schemas names " + name + " twice");
    }
    out.push_back(name);
  }
  return out;
}

const char* const kKnownSmtp[] = {"url", "starttls", "username", "password_sealed", "from", "ca_file"};
const char* const kKnownTwilio[] = {"account_sid", "auth_token_sealed", "from", "messaging_service_sid",
                                    "api_base_url", "ca_file"};

bool all_hex(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](unsigned char ch) { return std::isxdigit(ch) != 0; });
}

// Twilio's SIDs: a two-letter kind and 32 hex digits. Checked here so that
// a typo is refused by name at `authd project settings`, not found later
// as a 404 on every code.
void check_sid(const std::string& key, const std::string& sid, std::string_view prefix) {
  if (!sid.empty() && (sid.size() != 34 || sid.compare(0, 2, prefix) != 0 || !all_hex(std::string_view(sid).substr(2)))) {
    throw std::invalid_argument(key + " must be " + std::string(prefix) + " followed by 32 hex digits");
  }
}

// E.164: + and 8 to 15 digits, no leading zero (country codes have none).
// The one E.164 rule of authd (phone_number.h), and the setting must
// already be in its canonical "+<digits>" form.
void check_e164(const std::string& key, const std::string& number) {
  if (number.empty()) {
    return;
  }
  bool ok = false;
  try {
    ok = e164(canonical_phone(number)) == number;
  } catch (const ApiError&) {
  }
  if (!ok) {
    throw std::invalid_argument(key + " must be an E.164 number (+ and 8 to 15 digits)");
  }
}

// twilio.api_base_url: https://host[:port][/path], or http:// for a loopback
// host only (a local test server: the auth token must not cross a network
// in the clear). No user info, query or fragment: the API path is appended.
// A trailing '/' is dropped so that the stored value is canonical.
std::string twilio_base_url(std::string url) {
  const char* const what =
      "twilio.api_base_url must be an https:// URL (http:// only for 127.0.0.1, localhost or [::1]) "
      "without user info, query or fragment";
  while (!url.empty() && url.back() == '/') {
    url.pop_back();
  }
  const bool https = url.rfind("https://", 0) == 0;
  const bool http = url.rfind("http://", 0) == 0;
  if ((!https && !http) || url.size() > 2048 ||
      std::any_of(url.begin(), url.end(), [](unsigned char ch) {
        return ch <= ' ' || ch == 0x7f || ch == '@' || ch == '?' || ch == '#' || ch == '\\';
      })) {
    throw std::invalid_argument(what);
  }
  const std::size_t start = url.find("://") + 3;
  const std::string authority = url.substr(start, url.find('/', start) - start);
  std::string host = authority;
  std::string port;
  if (!host.empty() && host.front() == '[') {
    const std::size_t close = host.find(']');
    if (close == std::string::npos) {
      throw std::invalid_argument(what);
    }
    port = host.substr(close + 1);
    host = host.substr(0, close + 1);
  } else if (const std::size_t colon = host.find(':'); colon != std::string::npos) {
    port = host.substr(colon);
    host = host.substr(0, colon);
  }
  const bool host_ok = !host.empty() && (host.front() == '[' || std::all_of(host.begin(), host.end(), [](unsigned char ch) {
                                           return std::isalnum(ch) || ch == '.' || ch == '-';
                                         }));
  const bool port_ok = port.empty() || (port.size() >= 2 && port.size() <= 6 && port[0] == ':' &&
                                        std::all_of(port.begin() + 1, port.end(), [](unsigned char ch) {
                                          return std::isdigit(ch);
                                        }));
  const bool loopback = host == "127.0.0.1" || host == "localhost" || host == "[::1]";
  if (!host_ok || !port_ok || (http && !loopback)) {
    throw std::invalid_argument(what);
  }
  return url;
}

bool is_one_of(std::string_view key, std::span<const char* const> names) {
  return std::any_of(names.begin(), names.end(), [&](const char* n) { return key == n; });
}

const char* const kKnown[] = {"otp_length", "otp_ttl_seconds", "otp_max_attempts", "otp_resend_seconds",
                              "debug_mode", "access_token_ttl_seconds", "refresh_reuse_seconds",
                              "session_timebox_seconds", "session_inactivity_timeout_seconds", "single_session_per_user",
                              "refresh_grace_seconds",
                              "password_min_length", "password_require_mixed", "ip_requests_per_hour",
                              "sends_per_address_per_hour", "site_url", "redirect_urls", "smtp", "secure_email_change",
                              "exposed_schemas", "secure_password_change", "cors_allowed_origins", "mfa_sign_in",
                              "twilio", "passkey"};

}  // namespace

ProjectSettings ProjectSettings::from_json(const boost::json::object& o) {
  for (const auto& kv : o) {
    if (!is_one_of(kv.key(), kKnown)) {
      throw std::invalid_argument("unknown setting " + std::string(kv.key()));
    }
  }
  ProjectSettings s;
  s.otp_length = int_in(o, "otp_length", s.otp_length, 4, 10);
  s.otp_ttl_seconds = int_in(o, "otp_ttl_seconds", s.otp_ttl_seconds, 60, 86400);
  s.otp_max_attempts = int_in(o, "otp_max_attempts", s.otp_max_attempts, 1, 20);
  s.otp_resend_seconds = int_in(o, "otp_resend_seconds", s.otp_resend_seconds, 0, 3600);
  s.debug_mode = bool_of(o, "debug_mode", s.debug_mode);
  s.access_token_ttl_seconds = int_in(o, "access_token_ttl_seconds", s.access_token_ttl_seconds, 60, 86400);
  s.refresh_reuse_seconds = int_in(o, "refresh_reuse_seconds", s.refresh_reuse_seconds, 0, 60);
  s.session_timebox_seconds = int_in(o, "session_timebox_seconds", s.session_timebox_seconds, 0, 366 * 86400);
  s.session_inactivity_timeout_seconds =
      int_in(o, "session_inactivity_timeout_seconds", s.session_inactivity_timeout_seconds, 0, 366 * 86400);
  s.single_session_per_user = bool_of(o, "single_session_per_user", s.single_session_per_user);
  // refresh_grace_seconds: the name before policy 0007 (a replay in the
  // window got a second child). Every project stored before carries it,
  // mostly as its default 0, so only a value above 0 (an operator's choice)
  // still sets the window; it is saved under the new name.
  const int legacy_grace = int_in(o, "refresh_grace_seconds", 0, 0, 60);
  if (legacy_grace > 0) {
    s.refresh_reuse_seconds = legacy_grace;
  }
  s.password_min_length = int_in(o, "password_min_length", s.password_min_length, 6, 128);
  s.password_require_mixed = bool_of(o, "password_require_mixed", s.password_require_mixed);
  s.ip_requests_per_hour = int_in(o, "ip_requests_per_hour", s.ip_requests_per_hour, 1, 10000000);
  s.sends_per_address_per_hour = int_in(o, "sends_per_address_per_hour", s.sends_per_address_per_hour, 1, 1000);
  s.site_url = string_of(o, "site_url", s.site_url);
  check_url("site_url", s.site_url, false);
  if (const boost::json::value* urls = o.if_contains("redirect_urls")) {
    if (!urls->is_array()) {
      throw std::invalid_argument("redirect_urls must be an array of URLs");
    }
    for (const boost::json::value& u : urls->as_array()) {
      if (!u.is_string()) {
        throw std::invalid_argument("redirect_urls must be an array of URLs");
      }
      s.redirect_urls.emplace_back(u.as_string());
      check_url("redirect_urls", s.redirect_urls.back(), true);
    }
  }
  s.secure_email_change = bool_of(o, "secure_email_change", s.secure_email_change);
  s.secure_password_change = bool_of(o, "secure_password_change", s.secure_password_change);
  s.mfa_sign_in = string_of(o, "mfa_sign_in", s.mfa_sign_in);
  if (s.mfa_sign_in != kMfaSignInChallenge && s.mfa_sign_in != kMfaSignInAal1Session) {
    throw std::invalid_argument("mfa_sign_in must be \"challenge\" or \"aal1_session\"");
  }
  if (const boost::json::value* origins = o.if_contains("cors_allowed_origins")) {
    const char* const what = "cors_allowed_origins must be an array of origins (https://app.example.com) or \"*\"";
    if (!origins->is_array()) {
      throw std::invalid_argument(what);
    }
    for (const boost::json::value& u : origins->as_array()) {
      if (!u.is_string()) {
        throw std::invalid_argument(what);
      }
      const std::string origin(u.as_string());
      if (origin != "*") {
        check_url("cors_allowed_origins", origin, false);
        if (origin.find('/', origin.find("://") + 3) != std::string::npos) {
          throw std::invalid_argument(what);  // an origin has no path
        }
      }
      s.cors_allowed_origins.push_back(origin);
    }
  }
  if (const boost::json::value* schemas = o.if_contains("exposed_schemas")) {
    s.exposed_schemas = exposed_schemas_of(*schemas);
  }
  if (const boost::json::value* smtp = o.if_contains("smtp")) {
    if (!smtp->is_object()) {
      throw std::invalid_argument("smtp must be an object");
    }
    const boost::json::object& m = smtp->as_object();
    for (const auto& kv : m) {
      if (!is_one_of(kv.key(), kKnownSmtp)) {
        throw std::invalid_argument("unknown setting smtp." + std::string(kv.key()));
      }
    }
    s.smtp.url = string_of(m, "url", "");
    s.smtp.starttls = bool_of(m, "starttls", true);
    s.smtp.username = string_of(m, "username", "");
    s.smtp.password_sealed = string_of(m, "password_sealed", "");
    s.smtp.from = string_of(m, "from", s.smtp.from);
    s.smtp.ca_file = string_of(m, "ca_file", "");
    if (!s.smtp.ca_file.empty() && s.smtp.ca_file.front() != '/') {
      throw std::invalid_argument("smtp.ca_file must be an absolute path");
    }
    if (!s.smtp.url.empty() && s.smtp.url.rfind("smtp://", 0) != 0 && s.smtp.url.rfind("smtps://", 0) != 0) {
      throw std::invalid_argument("smtp.url must start with smtp:// or smtps://");
    }
  }
  if (const boost::json::value* passkey = o.if_contains("passkey")) {
    s.passkey = PasskeySettings::from_json(*passkey);
  }
  if (const boost::json::value* twilio = o.if_contains("twilio")) {
    if (!twilio->is_object()) {
      throw std::invalid_argument("twilio must be an object");
    }
    const boost::json::object& t = twilio->as_object();
    for (const auto& kv : t) {
      if (!is_one_of(kv.key(), kKnownTwilio)) {
        throw std::invalid_argument("unknown setting twilio." + std::string(kv.key()));
      }
    }
    s.twilio.account_sid = string_of(t, "account_sid", "");
    check_sid("twilio.account_sid", s.twilio.account_sid, "AC");
    s.twilio.auth_token_sealed = string_of(t, "auth_token_sealed", "");
    s.twilio.from = string_of(t, "from", "");
    check_e164("twilio.from", s.twilio.from);
    s.twilio.messaging_service_sid = string_of(t, "messaging_service_sid", "");
    check_sid("twilio.messaging_service_sid", s.twilio.messaging_service_sid, "MG");
    s.twilio.api_base_url = twilio_base_url(string_of(t, "api_base_url", s.twilio.api_base_url));
    s.twilio.ca_file = string_of(t, "ca_file", "");
    if (!s.twilio.ca_file.empty() && s.twilio.ca_file.front() != '/') {
      throw std::invalid_argument("twilio.ca_file must be an absolute path");
    }
  }
  return s;
}

boost::json::object ProjectSettings::to_json() const {
  return boost::json::object{
      {"otp_length", otp_length},
      {"otp_ttl_seconds", otp_ttl_seconds},
      {"otp_max_attempts", otp_max_attempts},
      {"otp_resend_seconds", otp_resend_seconds},
      {"debug_mode", debug_mode},
      {"access_token_ttl_seconds", access_token_ttl_seconds},
      {"refresh_reuse_seconds", refresh_reuse_seconds},
      {"session_timebox_seconds", session_timebox_seconds},
      {"session_inactivity_timeout_seconds", session_inactivity_timeout_seconds},
      {"single_session_per_user", single_session_per_user},
      {"password_min_length", password_min_length},
      {"password_require_mixed", password_require_mixed},
      {"ip_requests_per_hour", ip_requests_per_hour},
      {"sends_per_address_per_hour", sends_per_address_per_hour},
      {"site_url", site_url},
      {"redirect_urls", boost::json::value_from(redirect_urls)},
      {"secure_email_change", secure_email_change},
      {"secure_password_change", secure_password_change},
      {"mfa_sign_in", mfa_sign_in},
      {"cors_allowed_origins", boost::json::value_from(cors_allowed_origins)},
      {"exposed_schemas", boost::json::value_from(exposed_schemas)},
      {"smtp", boost::json::object{{"url", smtp.url},
                                   {"starttls", smtp.starttls},
                                   {"username", smtp.username},
                                   {"password_sealed", smtp.password_sealed},
                                   {"from", smtp.from},
                                   {"ca_file", smtp.ca_file}}},
      {"twilio", boost::json::object{{"account_sid", twilio.account_sid},
                                     {"auth_token_sealed", twilio.auth_token_sealed},
                                     {"from", twilio.from},
                                     {"messaging_service_sid", twilio.messaging_service_sid},
                                     {"api_base_url", twilio.api_base_url},
                                     {"ca_file", twilio.ca_file}}},
      {"passkey", passkey.to_json()}};
}

}  // namespace orbitnest::authd
