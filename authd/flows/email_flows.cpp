// Email flows: sign-up with a code (no users row before the code is
// verified), passwordless sign-in codes, resend, password recovery, and
// /verify, which turns a code into a session.
#include <boost/json.hpp>

#include "authd/api/api_error.h"
#include "authd/api/json_body.h"
#include "authd/flows/auth_api.h"
#include "authd/mail/outbox.h"
#include "authd/security/random.h"
#include "systemd/log.h"

namespace orbitnest::authd {
namespace {

std::string now_text(pqxx::transaction_base& tx) {
  return tx.exec1("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")[0].as<std::string>();
}

// Stores `code` (and its link) and queues its mail in `tx`: both commit,
// or neither.
void store_and_mail_code(AuthServices& s, pqxx::work& tx, const Project& p, const std::string& to,
                         const std::string& kind, const std::string& code, const EmailLink& link) {
  const std::string link_token = s.codes.store(tx, p, kind, to, code, link);
  if (p.settings.debug_mode) {
    // Debug projects: the code is always 1234 and no mail goes out. Loud,
    // so that nobody runs real users on it unawares.
    log::warning("authd.debug_mode_code", {{"project", p.ref}, {"kind", kind}, {"note", "code is 1234; no mail sent"}});
    return;
  }
  const char* subject = kind == "signup"         ? "Your sign-up code"
                        : kind == "recovery"     ? "Your password reset code"
                        : kind == "email_change" ? "Confirm your new email address"
                                                 : "Your sign-in code";
  const std::string body = "Your code is " + code + ". It expires in " +
                           std::to_string(p.settings.otp_ttl_seconds / 60) +
                           " minutes.\n\nOr open this link" + (link.pkce() ? " in the browser you started from" : "") +
                           ":\n" + email_link_url(link, link_token, kind) +
                           "\n\nIf you did not ask for it, you can ignore this mail.";
  enqueue_email(tx, p.ref, to, subject, body);
}

bool has_account(pqxx::connection& conn, const Project& p, const std::string& email) {
  pqxx::nontransaction q(conn);
  return find_user_by_email(q, p.ref, email).has_value();
}

// A fresh code of `kind` for `email`: stored and its mail queued in one
// transaction, then the mailer woken.
void send_code(AuthServices& s, pqxx::connection& conn, const Project& p, const std::string& email,
               const std::string& kind, const EmailLink& link) {
  const std::string code = s.codes.issue(conn, p, kind, email);
  pqxx::work tx(conn);
  store_and_mail_code(s, tx, p, email, kind, code, link);
  tx.commit();
  s.mailer.wake();
}

// Stores (or refreshes) a pending sign-up and mails its code.
void start_signup(AuthServices& s, pqxx::connection& conn, const Project& p, const std::string& email,
                  const std::optional<PasswordHash>& hash, const boost::json::object& data, const EmailLink& link) {
  const std::string code = s.codes.issue(conn, p, "signup", email);
  pqxx::work tx(conn);
  tx.exec_params(
      "INSERT INTO auth.pending_signups (id, project_ref, email, encrypted_password, pepper_version, raw_user_meta_data, "
      "expires_at) VALUES ($1::uuid, $2, $3, $4, $5, $6::jsonb, now() + interval '1 day') "
      "ON CONFLICT (project_ref, lower(email)) DO UPDATE SET encrypted_password = coalesce(EXCLUDED.encrypted_password, "
      "auth.pending_signups.encrypted_password), pepper_version = coalesce(EXCLUDED.pepper_version, "
      "auth.pending_signups.pepper_version), raw_user_meta_data = EXCLUDED.raw_user_meta_data, "
      "expires_at = EXCLUDED.expires_at",
      uuid_v4(), p.ref, email, hash ? std::optional<std::string>(hash->phc) : std::nullopt,
      hash ? std::optional<int>(hash->pepper_version) : std::nullopt, boost::json::serialize(data));
  store_and_mail_code(s, tx, p, email, "signup", code, link);
  tx.commit();
  s.mailer.wake();
}

// What /signup answers, whether or not the address already has an account:
// nothing in it tells them apart.
boost::json::object pending_user(pqxx::transaction_base& tx, const std::string& email, const boost::json::object& data) {
  const std::string now = now_text(tx);
  return boost::json::object{{"id", uuid_v4()},
                             {"aud", "authenticated"},
                             {"role", "authenticated"},
                             {"email", email},
                             {"phone", ""},
                             {"confirmation_sent_at", now},
                             {"app_metadata", boost::json::object{{"provider", "email"}, {"providers", {"email"}}}},
                             {"user_metadata", data},
                             {"identities", boost::json::array{}},
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
Response confirm_email_change_side(AuthServices& s, const ProjectCall& c, pqxx::work& tx, const std::string& email) {
  const pqxx::result r = tx.exec_params(
      "SELECT id::text, lower(email_change) = $2 AS is_new, coalesce(email, '') = '' AS no_current "
      "FROM auth.users WHERE project_ref = $1 AND email_change IS NOT NULL "
      "AND (lower(email_change) = $2 OR lower(email) = $2) ORDER BY email_change_sent_at DESC LIMIT 1 FOR UPDATE",
      c.project.ref, email);
  if (r.empty()) {
    throw ApiError(403, "otp_expired", "Token has expired or is invalid");
  }
  const std::string id = r[0][0].as<std::string>();
  const int side = r[0][1].as<bool>() ? 2 : 1;
  const int needed = c.project.settings.secure_email_change && !r[0][2].as<bool>() ? 3 : 2;
  const int confirmed = tx.exec_params1(
                              "UPDATE auth.users SET email_change_confirmed = email_change_confirmed | $2 "
                              "WHERE id = $1::uuid RETURNING email_change_confirmed",
                              id, side)[0]
                            .as<int>();
  if ((confirmed & needed) != needed) {
    tx.commit();
    return json_response(200, boost::json::object{{"msg", kOtherSideMessage}, {"code", 200}});
  }
  if (!tx.exec_params("SELECT 1 FROM auth.users u JOIN auth.users me ON me.id = $1::uuid "
                      "WHERE u.project_ref = me.project_ref AND lower(u.email) = lower(me.email_change) AND u.id <> me.id",
                      id)
           .empty()) {
    throw ApiError(422, "email_exists", "A user with this email address has already been registered");
  }
  const std::string new_email =
      tx.exec_params1("UPDATE auth.users SET email = email_change, email_change = NULL, email_change_sent_at = NULL, "
                      "email_change_confirmed = 0, email_confirmed_at = now(), updated_at = now() "
                      "WHERE id = $1::uuid RETURNING email",
                      id)[0]
          .as<std::string>();
  tx.exec_params("UPDATE auth.identities SET identity_data = identity_data || jsonb_build_object('email', $2::text), "
                 "updated_at = now() WHERE user_id = $1::uuid AND provider = 'email'",
                 id, new_email);
  const NewSession session = s.sessions.create_session(tx, id, "email_change", "", c.req.remote_address);
  const std::optional<UserRecord> user = find_user_by_id(tx, c.project.ref, id);
  const boost::json::object response =
      s.sessions.session_response(tx, c.project, *user, session.session_id, session.refresh_token);
  tx.commit();
  return json_response(200, response);
}

// The code kinds a verification type may consume.
std::vector<std::string> kinds_for(const std::string& type) {
  if (type == "signup") {
    return {"signup"};
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
  tx.exec_params("UPDATE auth.users SET email_change = $2, email_change_sent_at = now(), email_change_confirmed = 0, "
                 "updated_at = now() WHERE id = $1::uuid",
                 user.id, new_email);
  store_and_mail_code(s, tx, p, new_email, "email_change", to_new, link);
  if (both) {
    store_and_mail_code(s, tx, p, user.email, "email_change", to_current, link);
  }
  tx.commit();
  s.mailer.wake();
}

Response signup(AuthServices& s, const ProjectCall& c) {
  const JsonBody body = JsonBody::parse(c.req);
  if (body.string("phone")) {
    throw ApiError(400, "phone_provider_disabled", "Phone sign-ups are not enabled for this project");
  }
  const std::string email = normalize_email(body.required_string("email"));
  const std::optional<std::string> password = body.string("password");
  const boost::json::object data = body.object("data").value_or(boost::json::object{});
  const EmailLink link = email_link_for(c.project, c.req, body);
  limit_ip(s, c, "signup");
  PgPool::Lease conn = s.pg.lease();
  std::optional<PasswordHash> hash;
  if (password) {
    check_password_policy(c.project, *password);
    hash = s.passwords.hash(*password);
  }
  const bool exists = has_account(*conn, c.project, email);
  if (!exists) {
    start_signup(s, *conn, c.project, email, hash, data, link);
  }
  pqxx::nontransaction q(*conn);
  return json_response(200, pending_user(q, email, data));
}

Response otp(AuthServices& s, const ProjectCall& c) {
  const JsonBody body = JsonBody::parse(c.req);
  if (body.string("phone")) {
    throw ApiError(400, "phone_provider_disabled", "Phone sign-in is not enabled for this project");
  }
  const std::string email = normalize_email(body.required_string("email"));
  const bool create_user = body.boolean("create_user").value_or(true);
  const boost::json::object data = body.object("data").value_or(boost::json::object{});
  const EmailLink link = email_link_for(c.project, c.req, body);
  limit_ip(s, c, "otp");
  PgPool::Lease conn = s.pg.lease();
  const bool exists = has_account(*conn, c.project, email);
  if (exists) {
    send_code(s, *conn, c.project, email, "email", link);
  } else if (create_user) {
    start_signup(s, *conn, c.project, email, std::nullopt, data, link);
  } else {
    throw ApiError(422, "otp_disabled", "Signups not allowed for otp");
  }
  return json_response(200, boost::json::object{});
}

Response resend(AuthServices& s, const ProjectCall& c) {
  const JsonBody body = JsonBody::parse(c.req);
  const std::string type = body.required_string("type");
  if (type == "sms" || type == "phone_change" || body.string("phone")) {
    throw ApiError(400, "phone_provider_disabled", "Phone verification is not enabled for this project");
  }
  if (type != "signup" && type != "email_change") {
    throw ApiError(400, "validation_failed", "Resend type must be signup or email_change");
  }
  const std::string email = normalize_email(body.required_string("email"));
  const EmailLink link = email_link_for(c.project, c.req, body);
  limit_ip(s, c, "otp");
  PgPool::Lease conn = s.pg.lease();
  if (type == "email_change") {
    // `email` is the current address, as GoTrue reads it: the pending
    // change is mailed again (fresh codes to both sides, which start over).
    std::optional<UserRecord> user;
    {
      pqxx::nontransaction q(*conn);
      user = find_user_by_email(q, c.project.ref, email);
    }
    if (user && !user->new_email.empty()) {
      request_email_change(s, *conn, c.project, *user, user->new_email, link);
    }
    return json_response(200, boost::json::object{});  // also when there is nothing to resend
  }
  bool pending = false;
  {
    pqxx::nontransaction q(*conn);
    pending = !q.exec_params("SELECT 1 FROM auth.pending_signups WHERE project_ref = $1 AND lower(email) = $2 "
                             "AND expires_at > now()",
                             c.project.ref, email)
                   .empty();
  }
  if (pending) {
    send_code(s, *conn, c.project, email, "signup", link);
  }
  return json_response(200, boost::json::object{});
}

Response recover(AuthServices& s, const ProjectCall& c) {
  const JsonBody body = JsonBody::parse(c.req);
  const std::string email = normalize_email(body.required_string("email"));
  const EmailLink link = email_link_for(c.project, c.req, body);
  limit_ip(s, c, "otp");
  PgPool::Lease conn = s.pg.lease();
  const bool exists = has_account(*conn, c.project, email);
  if (exists) {
    send_code(s, *conn, c.project, email, "recovery", link);
  }
  return json_response(200, boost::json::object{});  // also for unknown addresses
}

Response verify(AuthServices& s, const ProjectCall& c) {
  const JsonBody body = JsonBody::parse(c.req);
  const std::string type = body.required_string("type");
  if (body.string("phone")) {
    throw ApiError(400, "phone_provider_disabled", "Phone verification is not enabled for this project");
  }
  const std::vector<std::string> kinds = kinds_for(type);
  if (const std::optional<std::string> token_hash = body.string("token_hash")) {
    if (body.string("email") || body.string("token") || body.string("password")) {
      throw ApiError(400, "validation_failed", "Only the token_hash and type should be provided");
    }
    limit_ip(s, c, "verify");
    PgPool::Lease conn = s.pg.lease();
    pqxx::work tx(*conn);
    const OneTimeCodes::Consumed used = s.codes.consume_link(tx, c.project, kinds, *token_hash);
    return complete_verification(s, c, tx, used.kind, used.recipient, std::nullopt);
  }
  const std::string email = normalize_email(body.required_string("email"));
  const std::string code = body.required_string("token");
  // OrbitNest extension: a password with the code sets it in the same
  // round trip (sign-up with password, or password reset).
  const std::optional<std::string> password = body.string("password");
  std::optional<PasswordHash> hash;
  if (password) {
    if (type == "email_change") {
      throw ApiError(400, "validation_failed", "A password can be set with a signup, email or recovery code only");
    }
    check_password_policy(c.project, *password);
    hash = s.passwords.hash(*password);
  }
  limit_ip(s, c, "verify");
  PgPool::Lease conn = s.pg.lease();
  pqxx::work tx(*conn);
  const std::string kind = s.codes.consume(*conn, tx, c.project, kinds, email, code);
  return complete_verification(s, c, tx, kind, email, hash);
}

Response complete_verification(AuthServices& s, const ProjectCall& c, pqxx::work& tx, const std::string& kind,
                               const std::string& email, const std::optional<PasswordHash>& hash) {
  if (kind == "email_change") {
    return confirm_email_change_side(s, c, tx, email);
  }
  std::optional<UserRecord> user = find_user_by_email(tx, c.project.ref, email);
  std::string amr = kind == "recovery" ? "recovery" : "otp";
  if (kind == "signup" && !user) {
    const pqxx::result pending = tx.exec_params(
        "DELETE FROM auth.pending_signups WHERE project_ref = $1 AND lower(email) = $2 "
        "RETURNING encrypted_password, pepper_version, raw_user_meta_data::text",
        c.project.ref, email);
    if (pending.empty()) {
      throw ApiError(403, "otp_expired", "Token has expired or is invalid");
    }
    const std::string id = uuid_v4();
    const std::optional<std::string> stored_hash =
        hash ? std::optional<std::string>(hash->phc)
             : (pending[0][0].is_null() ? std::nullopt : std::optional<std::string>(pending[0][0].as<std::string>()));
    const std::optional<int> pepper =
        hash ? std::optional<int>(hash->pepper_version)
             : (pending[0][1].is_null() ? std::nullopt : std::optional<int>(pending[0][1].as<int>()));
    tx.exec_params(
        "INSERT INTO auth.users (id, project_ref, email, encrypted_password, pepper_version, email_confirmed_at, "
        "raw_app_meta_data, raw_user_meta_data) VALUES ($1::uuid, $2, $3, $4, $5, now(), "
        "'{\"provider\":\"email\",\"providers\":[\"email\"]}'::jsonb, $6::jsonb)",
        id, c.project.ref, email, stored_hash, pepper, pending[0][2].as<std::string>());
    tx.exec_params(
        "INSERT INTO auth.identities (id, user_id, provider, provider_id, identity_data) "
        "VALUES ($1::uuid, $1::uuid, 'email', $1::text, jsonb_build_object('sub', $1::text, 'email', $2::text, "
        "'email_verified', true))",
        id, email);
    user = find_user_by_id(tx, c.project.ref, id);
  } else if (!user) {
    throw ApiError(403, "otp_expired", "Token has expired or is invalid");
  } else if (hash) {
    // A new password ends every other session, as a password change does.
    tx.exec_params("UPDATE auth.users SET encrypted_password = $2, pepper_version = $3, updated_at = now() "
                   "WHERE id = $1::uuid",
                   user->id, hash->phc, hash->pepper_version);
    tx.exec_params("DELETE FROM auth.sessions WHERE user_id = $1::uuid", user->id);
  }
  if (!user->email_confirmed_at) {
    tx.exec_params("UPDATE auth.users SET email_confirmed_at = now() WHERE id = $1::uuid", user->id);
  }
  const NewSession session = s.sessions.create_session(tx, user->id, amr, "", c.req.remote_address);
  user = find_user_by_id(tx, c.project.ref, user->id);
  const boost::json::object response = s.sessions.session_response(tx, c.project, *user, session.session_id,
                                                                    session.refresh_token);
  tx.commit();
  return json_response(200, response);
}

}  // namespace orbitnest::authd
