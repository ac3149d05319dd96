// SMS sign-in (seed: "SMS OTP (phone sign-in)"): POST /otp {phone} texts a
// code through the project's Twilio account — queued in the one outbox in
// the transaction that stores the code — and POST /verify {type: "sms",
// phone, token} signs in, creating the user on the first sign-in. Codes,
// their limits and lockouts are the email codes' (OneTimeCodes), keyed by
// the canonical number.
#include "authd/api/api_error.h"
#include "authd/api/json_body.h"
#include "authd/flows/auth_api.h"
#include "authd/flows/phone_number.h"
#include "authd/mail/outbox.h"
#include "authd/security/random.h"
#include "authd/stores/user_store.h"
#include "systemd/log.h"

namespace orbitnest::authd {
namespace {

constexpr const char* kSmsKind = "sms";

void require_sms(const Project& p) {
  if (!p.settings.debug_mode && !p.settings.twilio.configured()) {
    throw ApiError(400, "phone_provider_disabled", "Phone sign-in is not enabled for this project");
  }
}

}  // namespace

Response phone_otp(AuthServices& s, const RealmCall& c, const JsonBody& body) {
  const Project& p = c.project();
  require_sms(p);
  const std::string phone = canonical_phone(body.required_string("phone"));
  if (const std::optional<std::string> channel = body.string("channel"); channel && *channel != "sms") {
    throw ApiError(400, "validation_failed", "channel must be sms (WhatsApp is not available)");
  }
  const bool create_user = body.boolean("create_user").value_or(true);
  PgPool::Lease conn = s.pg.lease();
  if (!create_user) {
    pqxx::nontransaction q(*conn);
    if (!UserStore(c.realm).find_by_phone(q, phone)) {
      throw ApiError(422, "otp_disabled", "Signups not allowed for otp");
    }
  }
  // Per-number send limits count here (429), as for addresses.
  const std::string code = s.codes.issue(*conn, p, kSmsKind, phone);
  pqxx::work tx(*conn);
  s.codes.store(tx, p, kSmsKind, phone, code, EmailLink{p.settings.site_url, "", ""});
  if (p.settings.debug_mode) {
    log::warning("authd.debug_mode_code", {{"project", p.ref}, {"kind", kSmsKind}, {"note", "code is 1234; no SMS sent"}});
  } else {
    enqueue_sms(tx, p.ref, e164(phone), "Your " + p.name + " code is " + code + ". Do not share it.",
                p.settings.otp_ttl_seconds);
  }
  tx.commit();
  s.mailer.wake();
  return json_response(200, boost::json::object{});
}

Response phone_verify(AuthServices& s, const RealmCall& c, const JsonBody& body) {
  const Project& p = c.project();
  require_sms(p);
  const std::string phone = canonical_phone(body.required_string("phone"));
  const std::string token = body.required_string("token");
  PgPool::Lease conn = s.pg.lease();
  pqxx::work tx(*conn);
  s.codes.consume(*conn, tx, p, {kSmsKind}, phone, token);  // 403 otp_expired, lockouts
  const UserStore users(c.realm);
  std::optional<UserRecord> user = users.find_by_phone(tx, phone);
  if (!user) {
    const std::string id = uuid_v4();
    users.create_with_phone(tx, id, phone);  // the code proved the number: the seed's sign-up on first sign-in
    user = users.find_by_id(tx, id);
  } else {
    refuse_banned(*user);
    users.confirm_phone(tx, user->id);
  }
  return finish_sign_in(s, c, tx, *user, "sms", "");
}

}  // namespace orbitnest::authd
