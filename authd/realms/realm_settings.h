#pragma once
// A realm's settings (a project's are editable through `authd project`;
// the admin realm's come from authd.yaml's admin section).
#include <boost/json.hpp>

#include <string>
#include <vector>

#include "authd/realms/passkey_settings.h"

namespace orbitnest::authd {

struct SmtpSettings {
  std::string url;  // smtp://host:port or smtps://host:port
  bool starttls = true;
  std::string username;
  std::string password_sealed;  // base64url of a keyd blob (purpose smtp, aad = project ref)
  std::string ca_file;          // CA bundle for a relay with a private CA; empty = the system's
  std::string from = "OrbitNest Auth <no-reply@localhost>";
};

// A project's Twilio account, for codes sent by SMS (Messages API).
struct TwilioSettings {
  std::string account_sid;        // AC + 32 hex
  std::string auth_token_sealed;  // base64url of a keyd blob (purpose twilio, aad = project ref)
  std::string from;               // the sender, an E.164 number (+ and 8-15 digits) ...
  std::string messaging_service_sid;  // ... or a messaging service (MG + 32 hex), which wins when both are set
  // Configurable so that tests can point it at a local server; http only
  // for a loopback host.
  std::string api_base_url = "https://api.twilio.com";
  std::string ca_file;  // CA bundle for a private CA; empty = the system's

  // Enough to send: without it SMS stay queued.
  bool configured() const {
    return !account_sid.empty() && !auth_token_sealed.empty() && (!from.empty() || !messaging_service_sid.empty());
  }
};

// How a user with a verified second factor signs in.
// challenge: the first factor answers no session but a challenge token,
// and POST /mfa/verify with a code answers an aal2 session — a user with a
// factor never holds a session below aal2, so an app that forgets to check
// `aal` is still safe (the default). aal1_session: GoTrue's way, for apps on
// the unmodified auth-js — an aal1 session the app raises with
// /factors/{id}/challenge + /verify, and which the app must check.
inline constexpr const char* kMfaSignInChallenge = "challenge";
inline constexpr const char* kMfaSignInAal1Session = "aal1_session";

struct ProjectSettings {
  int otp_length = 4;            // 4..10
  int otp_ttl_seconds = 600;     // 10 minutes
  int otp_max_attempts = 5;      // wrong tries before a code is dead
  int otp_resend_seconds = 60;   // between sends to one address
  bool debug_mode = false;       // code is always 1234, no mail is sent
  int access_token_ttl_seconds = 3600;
  // A used refresh token presented again within this many seconds of its
  // rotation gets back the same child, if that child is still unused (a
  // client that lost the answer); anything else is a replay. 0 = strict.
  int refresh_reuse_seconds = 10;
  // Session lifetimes (GoTrue's sessions.timebox / inactivity_timeout /
  // single_per_user); 0 = none. A session older than the timebox, or not
  // refreshed within the inactivity timeout, is over: its refresh is 400
  // session_expired and its access tokens are refused (session_not_found).
  int session_timebox_seconds = 0;
  int session_inactivity_timeout_seconds = 0;
  bool single_session_per_user = false;  // a new sign-in ends the user's other sessions
  int password_min_length = 8;
  bool password_require_mixed = false;  // lower, upper and digit
  int ip_requests_per_hour = 1000;      // per endpoint class and IP
  int sends_per_address_per_hour = 10;
  std::string site_url = "http://localhost:3000";
  // Where a redirect_to may point besides site_url (as GoTrue's URI allow
  // list): an entry allows itself and what lies under it; a trailing * any
  // continuation. Anything else falls back to site_url.
  std::vector<std::string> redirect_urls;
  bool secure_email_change = true;  // both the old and the new address confirm
  // PUT /user with a password needs the current password, a reauthenticate
  // code (nonce), or a session begun by a mailed code in the last 10 minutes.
  bool secure_password_change = true;
  std::string mfa_sign_in = kMfaSignInChallenge;
  // Origins whose pages may call the API (CORS). Empty: the origins of
  // site_url and redirect_urls. "*" allows any origin. Never credentials.
  std::vector<std::string> cors_allowed_origins;
  // Schemas whose functions POST /rest/v1/rpc may call for this project
  // (the first is the default). A schema belongs to one project at most
  // (policy 0006); none by default, so RPC is off until set.
  std::vector<std::string> exposed_schemas;
  SmtpSettings smtp;
  TwilioSettings twilio;
  PasskeySettings passkey;

  static ProjectSettings from_json(const boost::json::object& o);  // throws std::invalid_argument
  boost::json::object to_json() const;
};

}  // namespace orbitnest::authd
