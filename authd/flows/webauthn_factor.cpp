#include "authd/flows/webauthn_factor.h"

#include <algorithm>

#include "authd/api/api_error.h"
#include "authd/flows/passkey_realm.h"
#include "authd/security/random.h"
#include "authd/stores/passkey_store.h"
#include "authd/webauthn/webauthn_base64.h"

namespace orbitnest::authd {
namespace {

constexpr std::size_t kChallengeBytes = 32;

// A second factor proves possession: user verification is asked for,
// not required (the first factor was the knowledge or the inbox), and the
// credential need not be discoverable.
const CeremonyPolicy kFactorPolicy{"discouraged", "preferred"};

webauthn::RelyingParty factor_relying_party(const Realm& realm) {
  webauthn::RelyingParty rp = passkey_relying_party(realm);
  rp.require_uv = false;
  return rp;
}

[[noreturn]] void validation(const std::string& message) { throw ApiError(400, "validation_failed", message); }

// The `webauthn` member of a verify body: {type, credential_response}.
boost::json::object ceremony_member(const JsonBody& body, const char* expected_type) {
  const std::optional<boost::json::object> member = body.object("webauthn");
  if (!member) {
    validation("webauthn is required: {type, credential_response}");
  }
  const boost::json::value* type = member->if_contains("type");
  if (type == nullptr || !type->is_string() || type->as_string() != expected_type) {
    validation(std::string("webauthn.type must be \"") + expected_type + "\" for this factor");
  }
  const boost::json::value* response = member->if_contains("credential_response");
  if (response == nullptr || !response->is_object()) {
    validation("webauthn.credential_response must be the credential's JSON (PublicKeyCredential.toJSON())");
  }
  return response->as_object();
}

}  // namespace

void check_client_relying_party(const RealmCall& c, const JsonBody& body) {
  const std::optional<boost::json::object> member = body.object("webauthn");
  if (!member) {
    return;
  }
  const std::string rp_id = passkey_rp_id(c.realm);
  if (const boost::json::value* id = member->if_contains("rpId"); id != nullptr && !id->is_null()) {
    if (!id->is_string() || id->as_string() != rp_id) {
      throw ApiError(400, "webauthn_rp_mismatch",
                     "webauthn.rpId is not this realm's relying party id \"" + rp_id + "\" (passkey.rp_id)");
    }
  }
  if (const boost::json::value* origins = member->if_contains("rpOrigins"); origins != nullptr && !origins->is_null()) {
    const webauthn::RelyingParty rp = passkey_relying_party(c.realm);
    if (!origins->is_array()) {
      validation("webauthn.rpOrigins must be an array of origins");
    }
    for (const boost::json::value& origin : origins->as_array()) {
      if (!origin.is_string() ||
          std::find(rp.origins.begin(), rp.origins.end(), std::string(origin.as_string())) == rp.origins.end()) {
        throw ApiError(400, "webauthn_rp_mismatch",
                       "webauthn.rpOrigins names an origin that is not among this realm's passkey.origins");
      }
    }
  }
}

FactorCeremony begin_factor_ceremony(pqxx::transaction_base& tx, const RealmCall& c, const UserRecord& user,
                                     const FactorRow& factor) {
  FactorCeremony ceremony;
  ceremony.challenge = random_token(kChallengeBytes);
  const PasskeyStore credentials(c.realm);
  if (factor.status != "verified") {
    const std::vector<PasskeyRow> exclude = credentials.list(tx, user.id, Credentials::passkeys_and_factors);
    ceremony.webauthn = boost::json::object{
        {"type", "create"},
        {"credential_options",
         boost::json::object{{"publicKey", creation_options(c, user, ceremony.challenge, exclude, kFactorPolicy)}}}};
    return ceremony;
  }
  const std::optional<PasskeyRow> credential = credentials.find_by_factor(tx, user.id, factor.id);
  if (!credential) {
    throw ApiError(422, "mfa_factor_not_found", "The factor has no credential; enroll it again");
  }
  ceremony.webauthn = boost::json::object{
      {"type", "request"},
      {"credential_options",
       boost::json::object{{"publicKey", request_options(c, ceremony.challenge, credential_descriptors({*credential}),
                                                         kFactorPolicy.user_verification)}}}};
  return ceremony;
}

void finish_factor_ceremony(pqxx::transaction_base& tx, const RealmCall& c, const std::string& user_id,
                            const FactorRow& factor, const std::string& challenge, const JsonBody& body) {
  check_client_relying_party(c, body);
  const PasskeyStore credentials(c.realm);
  const FactorStore factors(c.realm);
  if (factor.status == "verified") {
    const boost::json::object posted = ceremony_member(body, "request");
    const webauthn::AssertionResponse response = refusing([&] { return webauthn::read_assertion_response(posted); });
    const std::optional<PasskeyRow> credential = credentials.find_by_factor(tx, user_id, factor.id);
    if (!credential || credential->credential_id != response.credential_id) {
      throw ApiError(400, "webauthn_credential_not_found", "The assertion is not by this factor's credential");
    }
    accept_assertion(tx, c.realm, factor_relying_party(c.realm), response, challenge, *credential);
    return;
  }
  const boost::json::object posted = ceremony_member(body, "create");
  const webauthn::RegistrationResponse response = refusing([&] { return webauthn::read_registration_response(posted); });
  const webauthn::NewCredential credential =
      refusing([&] { return webauthn::verify_registration(factor_relying_party(c.realm), response, challenge); });
  PasskeyRow row = credential_row(credential, user_id, factor.friendly_name);
  row.factor_id = factor.id;
  if (!credentials.create(tx, row)) {
    throw ApiError(422, "webauthn_credential_exists", "This credential is registered already");
  }
  if (!factors.mark_verified(tx, factor.id)) {
    throw ApiError(422, "mfa_factor_not_found", "The factor was verified by another request");
  }
}

std::optional<FactorCeremony> begin_sign_in_ceremony(pqxx::transaction_base& tx, const RealmCall& c,
                                                     const std::string& user_id) {
  // Offered whether or not passkeys are enabled now: turning them off
  // stops new webauthn factors, it does not lock out the users who have one.
  std::vector<PasskeyRow> allowed;
  for (const FactorRow& factor : FactorStore(c.realm).verified(tx, user_id)) {
    if (factor.factor_type == "webauthn") {
      if (std::optional<PasskeyRow> credential = PasskeyStore(c.realm).find_by_factor(tx, user_id, factor.id)) {
        allowed.push_back(std::move(*credential));
      }
    }
  }
  if (allowed.empty()) {
    return std::nullopt;
  }
  FactorCeremony ceremony;
  ceremony.challenge = random_token(kChallengeBytes);
  ceremony.webauthn = boost::json::object{
      {"type", "request"},
      {"credential_options",
       boost::json::object{{"publicKey", request_options(c, ceremony.challenge, credential_descriptors(allowed),
                                                         kFactorPolicy.user_verification)}}}};
  return ceremony;
}

FactorRow finish_sign_in_ceremony(pqxx::transaction_base& tx, const RealmCall& c, const std::string& user_id,
                                  const std::string& challenge, const JsonBody& body,
                                  const std::optional<std::string>& only_factor) {
  check_client_relying_party(c, body);
  if (challenge.empty()) {
    throw ApiError(422, "mfa_factor_not_found", "This sign-in offered no webauthn ceremony: the user has no such factor");
  }
  const boost::json::object posted = ceremony_member(body, "request");
  const webauthn::AssertionResponse response = refusing([&] { return webauthn::read_assertion_response(posted); });
  const PasskeyStore credentials(c.realm);
  const std::optional<PasskeyRow> credential = credentials.find_by_credential(tx, response.credential_id);
  std::optional<FactorRow> factor;
  if (credential && credential->user_id == user_id && !credential->factor_id.empty()) {
    for (FactorRow& f : FactorStore(c.realm).verified(tx, user_id)) {
      if (f.id == credential->factor_id && (!only_factor || *only_factor == f.id)) {
        factor = std::move(f);
      }
    }
  }
  if (!factor) {
    throw ApiError(400, "webauthn_credential_not_found", "The assertion is not by a webauthn factor of this user");
  }
  accept_assertion(tx, c.realm, factor_relying_party(c.realm), response, challenge, *credential);
  return *factor;
}

}  // namespace orbitnest::authd
