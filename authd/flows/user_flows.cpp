// The signed-in user's endpoints (GET/PUT /user, /logout) and the public
// ones (/settings, /.well-known/jwks.json).
#include "authd/api/api_error.h"
#include "authd/api/json_body.h"
#include "authd/api/user_metadata.h"
#include "authd/flows/email_address.h"
#include "authd/flows/auth_api.h"
#include "authd/stores/session_store.h"
#include "authd/stores/user_store.h"

namespace orbitnest::authd {
namespace {

// How long after a session began with a mailed code (or a reset) it may
// change the password without more proof: the code just proved the mailbox.
constexpr std::int64_t kFreshMailboxProofSeconds = 600;

bool proved_mailbox_recently(const VerifiedToken& token) {
  const boost::json::value* amr = token.claims.if_contains("amr");
  if (amr == nullptr || !amr->is_array() || amr->as_array().empty() || !amr->as_array()[0].is_object()) {
    return false;
  }
  const boost::json::object& newest = amr->as_array()[0].as_object();  // newest first
  const boost::json::value* method = newest.if_contains("method");
  const boost::json::value* at = newest.if_contains("timestamp");
  if (method == nullptr || !method->is_string() || at == nullptr || !at->is_int64()) {
    return false;
  }
  const std::string_view m = method->as_string();
  return (m == "otp" || m == "recovery" || m == "email_change") &&
         unix_now() - at->as_int64() <= kFreshMailboxProofSeconds;
}

}  // namespace

// With secure_password_change (the default), a stolen access token alone
// cannot change the password and sign its owner out: the request proves
// the user with the current password, or with a reauthenticate code
// (nonce), or comes from a session a mailed code began minutes ago (the
// password-reset flow).
void require_reauthentication(AuthServices& s, pqxx::connection& conn, const RealmCall& c, const SignedIn& a,
                              const JsonBody& body) {
  if (!c.realm.settings.secure_password_change) {
    return;
  }
  if (const std::optional<std::string> current = body.string("current_password")) {
    {
      pqxx::nontransaction q(conn);
      refuse_if_password_failures_reached(q, c, a.user.email);  // a stolen token is no guessing oracle
    }
    bool ignored = false;
    if (!a.user.encrypted_password ||
        !s.passwords.verify(*current, *a.user.encrypted_password, a.user.pepper_version, &ignored)) {
      count_password_failure(conn, c, a.user.email);
      throw ApiError(400, "current_password_invalid", "Current password is not correct");
    }
    return;
  }
  if (const std::optional<std::string> nonce = body.string("nonce")) {
    try {
      pqxx::work tx(conn);
      s.codes.consume(conn, tx, c.project(), {"reauthentication"}, a.user.email, *nonce);
      tx.commit();
    } catch (const ApiError& e) {
      if (e.code() != "otp_expired") {
        throw;  // 429: too many wrong codes
      }
      throw ApiError(422, "reauthentication_not_valid", "Verification code is not valid or has expired");
    }
    return;
  }
  if (!proved_mailbox_recently(a.token)) {
    throw ApiError(400, "reauthentication_needed",
                   "Password update requires reauthentication: send current_password, or the nonce code "
                   "from GET /reauthenticate");
  }
}

Response get_user(AuthServices&, const RealmCall&, const SignedIn& a) {
  return json_response(200, user_json(a.user));  // read when the route authenticated the caller
}

Response put_user(AuthServices& s, const RealmCall& c, const SignedIn& a) {
  const JsonBody body = JsonBody::parse(c.req);
  if (body.string("phone")) {
    throw ApiError(422, "validation_failed", "Changing the phone number is not available yet");
  }
  const std::optional<std::string> raw_email = body.string("email");
  const std::optional<std::string> password = body.string("password");
  const std::optional<boost::json::object> data = body.object("data");
  if (data) {
    check_user_metadata(*data);  // before anything is counted or stored
  }
  if ((password || raw_email) && a.user.has_verified_factor() && a.aal() != "aal2") {
    // A second factor guards the credentials too: a session signed in with
    // the password alone cannot replace it, or the address it resets to.
    throw ApiError(401, "insufficient_aal", "AAL2 session is required to change the password or email");
  }
  PgPool::Lease conn = s.pg.lease();
  const std::optional<std::string> email =
      raw_email ? std::optional<std::string>(canonical_email(*raw_email)) : std::nullopt;
  const EmailLink link = email_link_for(c.project(), c.req, body);
  std::optional<PasswordHash> hash;
  if (password) {
    check_password_policy(c.realm, *password);
    require_reauthentication(s, *conn, c, a, body);
    bool ignored = false;
    if (a.user.encrypted_password &&
        s.passwords.verify(*password, *a.user.encrypted_password, a.user.pepper_version, &ignored)) {
      throw ApiError(422, "same_password", "New password should be different from the old password.");
    }
    hash = s.passwords.hash(*password);
  }
  if (email && *email != a.user.email) {
    request_email_change(s, *conn, c.project(), a.user, *email, link);
  }
  const UserStore users(c.realm);
  pqxx::work tx(*conn);
  if (hash) {
    users.set_password(tx, a.user.id, *hash);
    // A new password ends every other session and every pending code.
    SessionStore(c.realm).delete_others(tx, a.user.id, a.token.session_id);
    s.codes.void_pending(tx, c.project(), a.user.email);
  }
  if (data) {
    boost::json::object merged = a.user.user_metadata;
    for (const auto& kv : *data) {
      if (kv.value().is_null()) {
        merged.erase(kv.key());
      } else {
        merged[kv.key()] = kv.value();
      }
    }
    check_user_metadata(merged);
    users.set_user_metadata(tx, a.user.id, merged);
  }
  const std::optional<UserRecord> updated = users.find_by_id(tx, a.user.id);
  tx.commit();
  return json_response(200, user_json(*updated));
}

Response logout(AuthServices& s, const RealmCall& c, const SignedIn& a) {
  const std::string scope = query_param(c.req, "scope").value_or("global");
  if (scope != "global" && scope != "local" && scope != "others") {
    throw ApiError(400, "validation_failed", "scope must be global, local or others");
  }
  const SessionStore sessions(c.realm);
  PgPool::Lease conn = s.pg.lease();
  pqxx::work tx(*conn);
  if (scope == "local") {
    sessions.delete_one(tx, a.user.id, a.token.session_id);
  } else if (scope == "others") {
    sessions.delete_others(tx, a.user.id, a.token.session_id);
  } else {
    sessions.delete_all(tx, a.user.id);
  }
  tx.commit();
  Response r;
  r.status = 204;
  r.content_type = "text/plain";
  return r;
}

Response settings(AuthServices&, const RealmCall& c) {
  return json_response(
      200, boost::json::object{{"external", boost::json::object{{"email", true},
                                                                {"phone", c.realm.settings.twilio.configured()},
                                                                {"anonymous_users", false}, {"google", false},
                                                                {"github", false}, {"apple", false}}},
                               {"disable_signup", false},
                               {"mailer_autoconfirm", false},
                               {"phone_autoconfirm", false},
                               {"sms_provider", "twilio"},
                               {"saml_enabled", false},
                               {"passkeys_enabled", false},
                               {"mailer_otp_length", c.realm.settings.otp_length},
                               {"mailer_otp_exp", c.realm.settings.otp_ttl_seconds}});
}

Response jwks(AuthServices& s, const RealmCall& c) {
  Response r;
  r.body = s.jwks.jwks_json(c.realm.keyring);
  r.headers.emplace_back("Cache-Control", "public, max-age=600");
  return r;
}

}  // namespace orbitnest::authd
