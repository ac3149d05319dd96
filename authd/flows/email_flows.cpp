// Email flows: sign-up with a code (no users row before the code is
// verified), passwordless sign-in codes, resend, password recovery, and
// /verify, which turns a code into a session.
#include <boost/json.hpp>

#include "authd/api/api_error.h"
#include "authd/api/json_body.h"
#include "authd/api/user_metadata.h"
#include "authd/flows/email_address.h"
#include "authd/flows/auth_api.h"
#include "authd/mail/outbox.h"
#include "authd/security/random.h"
#include "authd/stores/pending_signup_store.h"
#include "authd/stores/session_store.h"
#include "authd/stores/user_store.h"
#include "systemd/log.h"

namespace orbitnest::authd {
namespace {

std::string now_text(pqxx::transaction_base& tx) {
  return tx.exec1("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")[0].as<std::string>();
}

// What one send request mails. The choice depends on whether the address
// has an account (or a pending sign-up), but every choice does the same
// work — a code issued (send limits counted), stored and its mail queued
// in one transaction — so that status, body, headers, limits and timing
// of signup, otp, recover and resend say nothing about the address.
enum class Letter {
  code,                // the code (and link) of its kind
  already_registered,  // sign-up of an address with an account: a sign-in code instead
  no_account,          // password reset of an address without an account: a notice, no code
  no_pending_signup,   // resend with nothing to resend: a notice, no code
};

struct MailText {
  std::string subject;
  std::string body;
};

MailText mail_text(const Project& p, Letter letter, const std::string& kind, const std::string& code,
                   const std::string& link_url, bool pkce) {
  const std::string minutes = std::to_string(p.settings.otp_ttl_seconds / 60);
  const std::string code_part = "Your code is " + code + ". It expires in " + minutes +
                                " minutes.\n\nOr open this link" + (pkce ? " in the browser you started from" : "") +
                                ":\n" + link_url + "\n\n";
  switch (letter) {
    case Letter::already_registered:
      return {"Sign in to your account",
              "Someone tried to sign up with this address, but it already has an account. To sign in:\n\n" +
                  code_part + "If it was not you, you can ignore this mail: nothing has changed."};
    case Letter::no_account:
      return {"Password reset requested",
              "Someone asked to reset the password of this address, but no account uses it.\n\n"
              "If it was not you, you can ignore this mail."};
    case Letter::no_pending_signup:
      return {"Your sign-up code",
              "Someone asked for a new sign-up code for this address, but no sign-up is waiting: "
              "sign up again to get one.\n\nIf it was not you, you can ignore this mail."};
    case Letter::code:
      break;
  }
  const char* subject = kind == "signup"             ? "Your sign-up code"
                        : kind == "recovery"         ? "Your password reset code"
                        : kind == "email_change"     ? "Confirm your new email address"
                        : kind == "reauthentication" ? "Confirm it is you"
                                                     : "Your sign-in code";
  return {subject, code_part + "If you did not ask for it, you can ignore this mail."};
}

// Stores `code` (and its link) and queues its mail in `tx`: both commit,
// or neither. The queued plaintext expires with the code.
void store_and_mail_code(AuthServices& s, pqxx::work& tx, const Project& p, const std::string& to,
                         const std::string& kind, const std::string& code, const EmailLink& link,
                         Letter letter = Letter::code) {
  const std::string link_token = s.codes.store(tx, p, kind, to, code, link);
  if (p.settings.debug_mode) {
    // Debug projects: the code is always 1234 and no mail goes out. Loud,
    // so that nobody runs real users on it unawares.
    log::warning("authd.debug_mode_code", {{"project", p.ref}, {"kind", kind}, {"note", "code is 1234; no mail sent"}});
    return;
  }
  const MailText text = mail_text(p, letter, kind, code, email_link_url(link, link_token, kind), link.pkce());
  enqueue_email(tx, p.ref, to, text.subject, text.body, p.settings.otp_ttl_seconds);
}

// One index probe, the same for an address with an account and without
// (reading and parsing the user row would make the first slower).
bool has_account(pqxx::connection& conn, const Project& p, const std::string& email) {
  pqxx::nontransaction q(conn);
  return UserStore(p).has_email(q, email);
}

// A pending sign-up to store (or refresh) with the code.
struct PendingSignup {
  std::optional<PasswordHash> hash;  // none: a pending password is dropped
  boost::json::object data;
};

// A fresh code of `kind` for `email`: stored and its mail queued in one
// transaction, with the pending sign-up if any, then the mailer woken.
// Returns the pending sign-up's id (the id its account will have), or "".
std::string send_code(AuthServices& s, pqxx::connection& conn, const Project& p, const std::string& email,
                      const std::string& kind, const EmailLink& link, Letter letter,
                      const PendingSignup* pending = nullptr) {
  const std::string code = s.codes.issue(conn, p, kind, email);
  pqxx::work tx(conn);
  std::string id;
  if (pending != nullptr) {
    // A stranger's password must never become the account's when its owner
    // signs in with a code. So a password-less request (a sign-in code, a
    // sign-up without a password) drops a pending password and locks the
    // row against later ones until it is verified or expires; otherwise the
    // password is the one of the request that issues this code. The row's
    // id stays: it is the id the account gets.
    id = PendingSignupStore(p).upsert(tx, uuid_v4(), email,
                                      pending->hash ? std::optional<std::string>(pending->hash->phc) : std::nullopt,
                                      pending->hash ? std::optional<int>(pending->hash->pepper_version) : std::nullopt,
                                      boost::json::serialize(pending->data));
  }
  store_and_mail_code(s, tx, p, email, kind, code, link, letter);
  tx.commit();
  s.mailer.wake();
  return id;
}

// The id /signup answers for an address that already has an account: not
// the account's, and the same at every call, as a pending sign-up's id is
// (a fresh random one each time would tell the two apart). A keyd MAC of
// project and address: nobody can compute it, or link it to the account.
std::string stand_in_id(AuthServices& s, const Project& p, const std::string& email) {
  int version = 0;
  return uuid_v4_of(s.keyd.mac("signup_id", p.ref + '\0' + email, 1, &version));
}

// What /signup answers: the same shape whether or not the address already
// has an account; `id` is the id the account will have (a stand-in for
// an address that has an account, as GoTrue obfuscates).
boost::json::object pending_user(pqxx::transaction_base& tx, const std::string& id, const std::string& email,
                                 const boost::json::object& data) {
  const std::string now = now_text(tx);
  const boost::json::object identity{
      {"identity_id", id},
      {"id", id},
      {"user_id", id},
      {"identity_data", boost::json::object{{"sub", id}, {"email", email}, {"email_verified", false},
                                            {"phone_verified", false}}},
      {"provider", "email"},
      {"email", email},
      {"created_at", now},
      {"updated_at", now}};
  return boost::json::object{{"id", id},
                             {"aud", "authenticated"},
                             {"role", "authenticated"},
                             {"email", email},
                             {"phone", ""},
                             {"confirmation_sent_at", now},
                             {"app_metadata", boost::json::object{{"provider", "email"}, {"providers", {"email"}}}},
                             {"user_metadata", data},
                             {"identities", boost::json::array{identity}},
                             {"created_at", now},
                             {"updated_at", now},
                             {"is_anonymous", false}};
}

constexpr const char* kOtherSideMessage =
    "Confirmation link accepted. Please proceed to confirm link sent to the other email";

// A code or link of kind email_change was consumed for `email`, one side
// of the change (the new address, or with secure email change also the
// current one); the change applies once every side needed has confirmed,
// and then answers a new session.
Response confirm_email_change_side(AuthServices& s, const RealmCall& c, pqxx::work& tx, const std::string& email) {
  const UserStore users(c.realm);
  const std::optional<EmailChangeMatch> match = users.lock_email_change(tx, email);
  if (!match) {
    throw ApiError(403, "otp_expired", "Token has expired or is invalid");
  }
  const std::string& id = match->user_id;
  const int side = match->is_new_address ? 2 : 1;
  const int needed = c.realm.settings.secure_email_change && !match->no_current_address ? 3 : 2;
  const int confirmed = users.confirm_email_change_side(tx, id, side);
  if ((confirmed & needed) != needed) {
    tx.commit();
    return json_response(200, boost::json::object{{"msg", kOtherSideMessage}, {"code", 200}});
  }
  if (users.new_email_taken(tx, id)) {
    throw ApiError(422, "email_exists", "A user with this email address has already been registered");
  }
  users.apply_email_change(tx, id);
  const std::optional<UserRecord> user = users.find_by_id(tx, id);
  return finish_sign_in(s, c, tx, *user, "email_change", "");
}

// The code kinds a verification type may consume.
std::vector<std::string> kinds_for(const std::string& type) {
  if (type == "signup") {
    // "email": the sign-in code a sign-up of a registered address mails.
    return {"signup", "email"};
  }
  if (type == "email" || type == "magiclink") {
    return {"email", "signup"};
  }
  if (type == "recovery" || type == "email_change") {
    return {type};
  }
  throw ApiError(400, "validation_failed",
                 "Verify requires a verification type: signup, email, magiclink, recovery or email_change");
}

}  // namespace

void request_email_change(AuthServices& s, pqxx::connection& conn, const Project& p, const UserRecord& user,
                          const std::string& new_email, const EmailLink& link) {
  if (has_account(conn, p, new_email)) {
    throw ApiError(422, "email_exists", "A user with this email address has already been registered");
  }
  const bool both = p.settings.secure_email_change && !user.email.empty();
  const std::string to_new = s.codes.issue(conn, p, "email_change", new_email);
  const std::string to_current = both ? s.codes.issue(conn, p, "email_change", user.email) : "";
  pqxx::work tx(conn);
  UserStore(p).begin_email_change(tx, user.id, new_email);
  store_and_mail_code(s, tx, p, new_email, "email_change", to_new, link);
  if (both) {
    store_and_mail_code(s, tx, p, user.email, "email_change", to_current, link);
  }
  tx.commit();
  s.mailer.wake();
}

Response signup(AuthServices& s, const RealmCall& c) {
  const JsonBody body = JsonBody::parse(c.req);
  if (body.string("phone")) {
    throw ApiError(400, "phone_provider_disabled", "Phone sign-ups are not enabled for this project");
  }
  const std::optional<std::string> raw_email = body.string("email");
  if (!raw_email) {
    // GoTrue's answer: a sign-up with neither address is an anonymous one.
    throw ApiError(422, "anonymous_provider_disabled", "Anonymous sign-ins are disabled");
  }
  const std::string email = canonical_email(*raw_email);
  const std::optional<std::string> password = body.string("password");
  PendingSignup pending{std::nullopt, body.object("data").value_or(boost::json::object{})};
  check_user_metadata(pending.data);
  const EmailLink link = email_link_for(c.project(), c.req, body);
  PgPool::Lease conn = s.pg.lease();
  if (password) {
    check_password_policy(c.project(), *password);
    pending.hash = s.passwords.hash(*password);  // for registered addresses too: same time
  }
  std::string id;
  if (has_account(*conn, c.project(), email)) {
    send_code(s, *conn, c.project(), email, "email", link, Letter::already_registered);
    id = stand_in_id(s, c.project(), email);
  } else {
    id = send_code(s, *conn, c.project(), email, "signup", link, Letter::code, &pending);
  }
  pqxx::nontransaction q(*conn);
  return json_response(200, pending_user(q, id, email, pending.data));
}

Response otp(AuthServices& s, const RealmCall& c) {
  const JsonBody body = JsonBody::parse(c.req);
  if (body.string("phone")) {
    return phone_otp(s, c, body);
  }
  const std::string email = canonical_email(body.required_string("email"));
  const bool create_user = body.boolean("create_user").value_or(true);
  const PendingSignup pending{std::nullopt, body.object("data").value_or(boost::json::object{})};
  check_user_metadata(pending.data);
  const EmailLink link = email_link_for(c.project(), c.req, body);
  PgPool::Lease conn = s.pg.lease();
  if (has_account(*conn, c.project(), email)) {
    send_code(s, *conn, c.project(), email, "email", link, Letter::code);
  } else if (create_user) {
    send_code(s, *conn, c.project(), email, "signup", link, Letter::code, &pending);
  } else {
    throw ApiError(422, "otp_disabled", "Signups not allowed for otp");
  }
  return json_response(200, boost::json::object{});
}

Response resend(AuthServices& s, const RealmCall& c) {
  const JsonBody body = JsonBody::parse(c.req);
  const std::string type = body.required_string("type");
  if (type == "sms" || type == "phone_change" || body.string("phone")) {
    throw ApiError(400, "phone_provider_disabled", "Phone verification is not enabled for this project");
  }
  if (type != "signup" && type != "email_change") {
    throw ApiError(400, "validation_failed", "Resend type must be signup or email_change");
  }
  const std::string email = canonical_email(body.required_string("email"));
  const EmailLink link = email_link_for(c.project(), c.req, body);
  PgPool::Lease conn = s.pg.lease();
  std::optional<UserRecord> user;
  bool pending = false;
  {
    pqxx::nontransaction q(*conn);
    user = UserStore(c.realm).find_by_email(q, email);
    pending = !user && PendingSignupStore(c.project()).is_live(q, email);
  }
  if (type == "email_change") {
    // `email` is the current address, as GoTrue reads it: the pending
    // change is mailed again (fresh codes to both sides, which start over).
    if (user && !user->new_email.empty()) {
      request_email_change(s, *conn, c.project(), *user, user->new_email, link);
    }
    return json_response(200, boost::json::object{});  // also when there is nothing to resend
  }
  if (pending) {
    send_code(s, *conn, c.project(), email, "signup", link, Letter::code);  // the pending password stays
  } else if (user) {
    send_code(s, *conn, c.project(), user->email, "email", link, Letter::already_registered);
  } else {
    send_code(s, *conn, c.project(), email, "signup", link, Letter::no_pending_signup);
  }
  return json_response(200, boost::json::object{});
}

Response recover(AuthServices& s, const RealmCall& c) {
  const JsonBody body = JsonBody::parse(c.req);
  const std::string email = canonical_email(body.required_string("email"));
  const EmailLink link = email_link_for(c.project(), c.req, body);
  PgPool::Lease conn = s.pg.lease();
  // An unknown address gets a notice instead of a code (the code stored
  // beside it can reset nothing: there is no account).
  send_code(s, *conn, c.project(), email, "recovery", link,
            has_account(*conn, c.project(), email) ? Letter::code : Letter::no_account);
  return json_response(200, boost::json::object{});
}

Response reauthenticate(AuthServices& s, const RealmCall& c, const SignedIn& a) {
  PgPool::Lease conn = s.pg.lease();
  if (a.user.email.empty() || !a.user.email_confirmed_at) {
    throw ApiError(422, "email_not_confirmed", "Email not confirmed");
  }
  const EmailLink no_link{c.project().settings.site_url, "", ""};
  send_code(s, *conn, c.project(), a.user.email, "reauthentication", no_link, Letter::code);
  return json_response(200, boost::json::object{});
}

Response verify(AuthServices& s, const RealmCall& c) {
  const JsonBody body = JsonBody::parse(c.req);
  const std::string type = body.required_string("type");
  if (type == "sms") {
    return phone_verify(s, c, body);
  }
  if (body.string("phone")) {
    throw ApiError(400, "validation_failed", "A phone number is verified with type sms");
  }
  const std::vector<std::string> kinds = kinds_for(type);
  if (const std::optional<std::string> token_hash = body.string("token_hash")) {
    if (body.string("email") || body.string("token") || body.string("password")) {
      throw ApiError(400, "validation_failed", "Only the token_hash and type should be provided");
    }
      PgPool::Lease conn = s.pg.lease();
    pqxx::work tx(*conn);
    const OneTimeCodes::Consumed used = s.codes.consume_link(tx, c.project(), kinds, *token_hash);
    return complete_verification(s, c, tx, used.kind, used.recipient, std::nullopt);
  }
  const std::string email = canonical_email(body.required_string("email"));
  const std::string code = body.required_string("token");
  // OrbitNest extension: a password with the code sets it in the same
  // round trip (sign-up with password, or password reset).
  const std::optional<std::string> password = body.string("password");
  std::optional<PasswordHash> hash;
  if (password) {
    if (type == "email_change") {
      throw ApiError(400, "validation_failed", "A password can be set with a signup, email or recovery code only");
    }
    check_password_policy(c.project(), *password);
    hash = s.passwords.hash(*password);
  }
  PgPool::Lease conn = s.pg.lease();
  pqxx::work tx(*conn);
  const std::string kind = s.codes.consume(*conn, tx, c.project(), kinds, email, code);
  return complete_verification(s, c, tx, kind, email, hash);
}

Response complete_verification(AuthServices& s, const RealmCall& c, pqxx::work& tx, const std::string& kind,
                               const std::string& email, const std::optional<PasswordHash>& hash) {
  if (kind == "email_change") {
    return confirm_email_change_side(s, c, tx, email);
  }
  const UserStore users(c.realm);
  std::optional<UserRecord> user = users.find_by_email(tx, email);
  std::string amr = kind == "recovery" ? "recovery" : "otp";
  if (kind == "signup" && !user) {
    const std::optional<PendingSignupRow> pending = PendingSignupStore(c.project()).take_live(tx, email);
    if (!pending) {
      throw ApiError(403, "otp_expired", "Token has expired or is invalid");
    }
    // The id /signup answered; a password sent with the code wins.
    users.create_confirmed(tx, pending->id, email,
                           hash ? std::optional<std::string>(hash->phc) : pending->encrypted_password,
                           hash ? std::optional<int>(hash->pepper_version) : pending->pepper_version,
                           pending->user_metadata_json);
    user = users.find_by_id(tx, pending->id);
  } else if (!user) {
    throw ApiError(403, "otp_expired", "Token has expired or is invalid");
  } else if (hash && user->has_verified_factor()) {
    // A mailbox alone does not replace the password of a user with a
    // second factor: sign in (both factors), then change it.
    throw ApiError(401, "insufficient_aal",
                   "This account has a second factor: sign in with it, then change the password");
  } else if (hash) {
    // A new password ends every other session, as a password change does.
    users.set_password(tx, user->id, *hash);
    SessionStore(c.realm).delete_all(tx, user->id);
  }
  refuse_banned(*user);
  users.confirm_email(tx, user->id);
  return finish_sign_in(s, c, tx, *user, amr, "");
}

}  // namespace orbitnest::authd
