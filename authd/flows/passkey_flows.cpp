// Passkeys for every realm (#12): registration and sign-in ceremonies in
// the W3C PublicKeyCredential JSON forms (what @simplewebauthn/browser's
// startRegistration / startAuthentication and the browser's toJSON()
// give), and the user's own passkeys. The ceremony's challenge is kept
// server-side and spent before anything is verified; the verification is
// authd/webauthn's. A user-verified passkey sign-in is aal2 by itself
// (amr webauthn: phishing-resistant and two factors in one).
#include <chrono>

#include "authd/api/api_error.h"
#include "authd/api/json_body.h"
#include "authd/flows/auth_api.h"
#include "authd/flows/email_address.h"
#include "authd/flows/passkey_realm.h"
#include "authd/stores/passkey_store.h"
#include "authd/stores/session_store.h"
#include "authd/stores/user_store.h"
#include "authd/stores/webauthn_challenge_store.h"
#include "authd/webauthn/relying_party.h"
#include "authd/webauthn/webauthn_base64.h"
#include "authd/webauthn/webauthn_error.h"

namespace orbitnest::authd {
namespace {

constexpr std::size_t kMaxNameBytes = 128;

// "/.../passkeys/<id>" -> "<id>"
std::string passkey_id_of(const Request& req) { return req.path.substr(req.path.rfind('/') + 1); }

void require_passkeys(const RealmCall& c) {
  if (!c.realm.settings.passkey.enabled) {
    throw ApiError(422, "webauthn_disabled", "Passkeys are turned off for this realm");
  }
}

// The challenge the client data carries, spent in a transaction of its
// own: committed before verification, so a refused attempt spends it too.
IssuedCeremony spend_challenge(AuthServices& s, const RealmCall& c, const std::string& challenge,
                               const std::string& kind) {
  PgPool::Lease conn = s.pg.lease();
  pqxx::work tx(*conn);
  const std::optional<IssuedCeremony> ceremony = WebAuthnChallengeStore(c.realm).consume(tx, challenge, kind);
  tx.commit();
  if (!ceremony) {
    throw ApiError(400, "webauthn_challenge_not_found",
                   "No " + kind + " ceremony with this challenge: it was used, or never issued here; start again");
  }
  if (ceremony->expired) {
    throw ApiError(400, "webauthn_challenge_expired", "The " + kind + " ceremony expired (5 minutes); start again");
  }
  return *ceremony;
}

// The body of a verify call: auth-js's {challenge_id, credential}, or the
// credential itself (@simplewebauthn/browser's output posted as is). The
// challenge it answers is the one named, else the one its client data
// carries; either way one authd issued and nobody spent.
struct PostedCredential {
  boost::json::object credential;
  std::optional<std::string> challenge_id;
};

PostedCredential posted_credential(const JsonBody& body) {
  if (std::optional<boost::json::object> credential = body.object("credential")) {
    return {std::move(*credential), body.string("challenge_id")};
  }
  return {body.all(), std::nullopt};
}

// auth-js's envelope of a ceremony's options: the challenge is its id.
Response ceremony_answer(const std::string& challenge, boost::json::object options) {
  return json_response(200, boost::json::object{{"challenge_id", challenge},
                                                {"options", std::move(options)},
                                                {"expires_at", unix_now() + kWebAuthnChallengeSeconds}});
}

// A user who already has a second factor or a passkey adds a passkey
// only from an aal2 session: else a stolen first factor (a mailed code, a
// password, an aal1 token) would add the thief's passkey and sign in with
// it at aal2 — past the owner's TOTP, or to strip the owner's passkeys.
// The first one is allowed at aal1, as GoTrue enrolls a first factor.
void require_aal2_to_add(const SignedIn& a, int passkeys) {
  if (a.aal() != "aal2" && (a.user.has_verified_factor() || passkeys > 0)) {
    throw ApiError(403, "insufficient_aal",
                   "Adding a passkey to an account with a second factor or a passkey needs an aal2 session");
  }
}

std::string bounded_name(const JsonBody& body, const std::string& fallback) {
  const std::string name = body.string("friendly_name").value_or(fallback);
  if (name.size() > kMaxNameBytes || name.find('\0') != std::string::npos) {
    throw ApiError(400, "validation_failed", "friendly_name is longer than 128 bytes");
  }
  return name;
}

}  // namespace

Response passkey_registration_options(AuthServices& s, const RealmCall& c, const SignedIn& a) {
  require_passkeys(c);
  if (a.user.is_anonymous) {
    throw ApiError(403, "no_authorization", "Anonymous users cannot register passkeys");
  }
  const PasskeySettings& settings = c.realm.settings.passkey;
  PgPool::Lease conn = s.pg.lease();
  pqxx::work tx(*conn);
  const PasskeyStore passkeys(c.realm);
  const std::vector<PasskeyRow> existing = passkeys.list(tx, a.user.id);
  require_aal2_to_add(a, static_cast<int>(existing.size()));
  if (existing.size() >= static_cast<std::size_t>(kMaxPasskeysPerUser)) {
    throw ApiError(422, "too_many_passkeys", "A user has at most 25 passkeys; revoke one first");
  }
  const std::vector<PasskeyRow> exclude = passkeys.list(tx, a.user.id, Credentials::passkeys_and_factors);
  const std::string challenge = WebAuthnChallengeStore(c.realm).issue(tx, "registration", a.user.id);
  tx.commit();
  return ceremony_answer(challenge, creation_options(c, a.user, challenge, exclude,
                                                     CeremonyPolicy{settings.resident_key, settings.user_verification}));
}

Response passkey_registration_verify(AuthServices& s, const RealmCall& c, const SignedIn& a) {
  require_passkeys(c);
  const JsonBody body = JsonBody::parse(c.req);
  const PostedCredential posted = posted_credential(body);
  const webauthn::RegistrationResponse response =
      refusing([&] { return webauthn::read_registration_response(posted.credential); });
  const std::string issued = posted.challenge_id.value_or(response.client_data.challenge);
  const IssuedCeremony ceremony = spend_challenge(s, c, issued, "registration");
  if (ceremony.user_id != a.user.id) {
    throw ApiError(400, "webauthn_challenge_not_found", "This registration ceremony belongs to another user");
  }
  const webauthn::NewCredential credential =
      refusing([&] { return webauthn::verify_registration(passkey_relying_party(c.realm), response, issued); });
  const PasskeyRow row = credential_row(credential, a.user.id,
                                        bounded_name(body, authenticator_name(credential.aaguid).value_or("Passkey")));
  PgPool::Lease conn = s.pg.lease();
  pqxx::work tx(*conn);
  const PasskeyStore passkeys(c.realm);
  UserStore(c.realm).lock(tx, a.user.id);  // two registrations racing count one after the other
  const int count = passkeys.count(tx, a.user.id);
  require_aal2_to_add(a, count);
  if (count >= kMaxPasskeysPerUser) {
    throw ApiError(422, "too_many_passkeys", "A user has at most 25 passkeys; revoke one first");
  }
  if (!passkeys.create(tx, row)) {
    throw ApiError(422, "webauthn_credential_exists", "This passkey is registered already");
  }
  const std::optional<PasskeyRow> stored = passkeys.find(tx, a.user.id, row.id);
  tx.commit();
  return json_response(200, passkey_json(*stored));
}

Response passkey_authentication_options(AuthServices& s, const RealmCall& c) {
  require_passkeys(c);
  const JsonBody body = JsonBody::parse(c.req);
  PgPool::Lease conn = s.pg.lease();
  pqxx::work tx(*conn);
  // A sign-in that names a user with passkeys binds the ceremony to that
  // user, server-side. The answer must not tell who has an account: where
  // passkeys are discoverable (resident_key required, the default) it
  // lists none; where some may not be, it lists the user's — and for an
  // address with none, one decoy id that keyd derives from the address
  // (stable, so asking twice tells nothing either).
  std::string user_id;
  std::vector<PasskeyRow> allowed;
  boost::json::array allow;
  if (const std::optional<std::string> email = body.string("email"); email && !email->empty()) {
    const std::string address = canonical_email(*email);
    if (const std::optional<UserRecord> user = UserStore(c.realm).find_by_email(tx, address)) {
      allowed = PasskeyStore(c.realm).list(tx, user->id);
      if (!allowed.empty()) {
        user_id = user->id;
      }
    }
    if (c.realm.settings.passkey.resident_key != "required") {
      if (!allowed.empty()) {
        allow = credential_descriptors(allowed);
      } else {
        int version = 0;
        const std::string decoy = s.keyd.mac("webauthn_decoy", c.realm.name() + '\0' + address, 1, &version);
        allow.push_back(boost::json::object{{"id", webauthn::encode_base64url(decoy)}, {"type", "public-key"}});
      }
    }
  }
  const std::string challenge = WebAuthnChallengeStore(c.realm).issue(tx, "authentication", user_id);
  tx.commit();
  return ceremony_answer(challenge,
                         request_options(c, challenge, std::move(allow), c.realm.settings.passkey.user_verification));
}

Response passkey_authentication_verify(AuthServices& s, const RealmCall& c) {
  require_passkeys(c);
  const JsonBody body = JsonBody::parse(c.req);
  const PostedCredential posted = posted_credential(body);
  const webauthn::AssertionResponse response =
      refusing([&] { return webauthn::read_assertion_response(posted.credential); });
  const std::string issued = posted.challenge_id.value_or(response.client_data.challenge);
  const IssuedCeremony ceremony = spend_challenge(s, c, issued, "authentication");
  PgPool::Lease conn = s.pg.lease();
  pqxx::work tx(*conn);
  const PasskeyStore passkeys(c.realm);
  const std::optional<PasskeyRow> passkey = passkeys.find_by_credential(tx, response.credential_id);
  // §7.2 steps 5-6: the credential is the named user's; a discoverable
  // sign-in names its user by the user handle, which must be the one the
  // credential was registered under. A webauthn factor's credential is a
  // second factor only: it signs nobody in here.
  const bool handle_ok = passkey && passkey->factor_id.empty() && (response.user_handle ? *response.user_handle == passkey->user_handle
                                                          : !ceremony.user_id.empty());
  if (!passkey || !handle_ok || (!ceremony.user_id.empty() && ceremony.user_id != passkey->user_id)) {
    throw ApiError(400, "webauthn_credential_not_found", "No passkey of this realm matches this credential");
  }
  const webauthn::VerifiedAssertion verified =
      accept_assertion(tx, c.realm, passkey_relying_party(c.realm), response, issued, *passkey);
  const std::optional<UserRecord> user = UserStore(c.realm).find_by_id(tx, passkey->user_id);
  if (!user) {
    throw ApiError(400, "webauthn_credential_not_found", "No passkey of this realm matches this credential");
  }
  refuse_banned(*user, 400);
  // With the user's own Bearer token: a fresh assertion that raises the
  // caller's session (a step-up, e.g. before revoking a passkey).
  if (c.req.headers.count("Authorization") != 0) {
    const SignedIn caller = authenticate(s, tx, c);
    if (caller.user.id != user->id) {
      throw ApiError(403, "webauthn_user_mismatch", "The passkey belongs to another user than the session");
    }
    if (!verified.user_verified) {
      throw ApiError(400, "webauthn_user_not_verified", "A step-up needs a user-verified assertion");
    }
    // The passkey is the factor that raised it: revoking it lowers the session again.
    return json_response(200, raise_session(s, c, tx, caller, passkey->id, "webauthn"));
  }
  if (!verified.user_verified) {
    return finish_sign_in(s, c, tx, *user, "webauthn", user_agent_of(c.req), passkey->id);
  }
  const NewSession session =
      s.sessions.create_session(tx, c.realm, user->id, "webauthn", user_agent_of(c.req), c.req.remote_address);
  const SessionStore sessions(c.realm);
  sessions.link_passkey(tx, session.session_id, passkey->id);
  sessions.raise_to_aal2(tx, session.session_id, "", "webauthn");
  return answer_session(s, c, tx, user->id, session);
}

Response list_passkeys(AuthServices& s, const RealmCall& c, const SignedIn& a) {
  PgPool::Lease conn = s.pg.lease();
  pqxx::work tx(*conn);
  boost::json::array out;
  for (const PasskeyRow& p : PasskeyStore(c.realm).list(tx, a.user.id)) {
    out.push_back(passkey_json(p));
  }
  tx.commit();
  return json_response(200, out);
}

Response rename_passkey(AuthServices& s, const RealmCall& c, const SignedIn& a) {
  const JsonBody body = JsonBody::parse(c.req);
  const std::string name = bounded_name(body, "");
  PgPool::Lease conn = s.pg.lease();
  pqxx::work tx(*conn);
  const PasskeyStore passkeys(c.realm);
  const std::string id = passkey_id_of(c.req);
  if (!passkeys.rename(tx, a.user.id, id, name)) {
    throw ApiError(404, "passkey_not_found", "No passkey with this id");
  }
  const std::optional<PasskeyRow> row = passkeys.find(tx, a.user.id, id);
  tx.commit();
  return json_response(200, passkey_json(*row));
}

Response revoke_passkey(AuthServices& s, const RealmCall& c, const SignedIn& a) {
  // A stolen aal1 session must not strip the owner's passkeys: aal2, or
  // a fresh passkey assertion (which raises this session) first.
  if (a.aal() != "aal2") {
    throw ApiError(403, "insufficient_aal",
                   "Revoking a passkey needs an aal2 session: verify a second factor or a passkey first");
  }
  PgPool::Lease conn = s.pg.lease();
  pqxx::work tx(*conn);
  const std::string id = passkey_id_of(c.req);
  if (!PasskeyStore(c.realm).revoke(tx, a.user.id, id, "user", c.req.remote_address)) {
    throw ApiError(404, "passkey_not_found", "No passkey with this id");
  }
  SessionStore(c.realm).lower_raised_by(tx, id, "webauthn");
  tx.commit();
  return json_response(200, boost::json::object{{"id", id}});
}

}  // namespace orbitnest::authd
