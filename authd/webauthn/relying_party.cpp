#include "authd/webauthn/relying_party.h"

#include <openssl/crypto.h>

#include <algorithm>

#include "authd/webauthn/attestation.h"
#include "authd/webauthn/authenticator_data.h"
#include "authd/webauthn/cbor_item.h"
#include "authd/webauthn/digest.h"
#include "authd/webauthn/cose_key.h"
#include "authd/webauthn/fido_verify.h"
#include "authd/webauthn/webauthn_base64.h"
#include "authd/webauthn/webauthn_error.h"

namespace orbitnest::authd::webauthn {
namespace {

constexpr const char* kMalformed = "webauthn_malformed";
constexpr std::size_t kMaxBinaryMember = 16 * 1024;

bool equal_constant_time(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

const boost::json::object& object_member(const boost::json::object& o, std::string_view key) {
  const boost::json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_object()) {
    throw WebAuthnError(kMalformed, "the credential has no object " + std::string(key));
  }
  return v->as_object();
}

std::optional<std::string> binary_member(const boost::json::object& o, std::string_view key, bool required) {
  const boost::json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) {
    if (required) {
      throw WebAuthnError(kMalformed, "the credential has no " + std::string(key));
    }
    return std::nullopt;
  }
  if (!v->is_string() || v->as_string().size() > kMaxBinaryMember) {
    throw WebAuthnError(kMalformed, std::string(key) + " must be a base64url string");
  }
  std::optional<std::string> bytes = decode_base64_any(v->as_string());
  if (!bytes) {
    throw WebAuthnError(kMalformed, std::string(key) + " is not base64url");
  }
  return bytes;
}

// id and rawId name one credential (the JSON form carries both).
std::string credential_id_of(const boost::json::object& credential) {
  const std::string raw_id = *binary_member(credential, "rawId", true);
  if (const boost::json::value* id = credential.if_contains("id"); id != nullptr && id->is_string()) {
    if (decode_base64_any(id->as_string()) != raw_id) {
      throw WebAuthnError(kMalformed, "id and rawId differ");
    }
  }
  if (const boost::json::value* type = credential.if_contains("type");
      type != nullptr && !(type->is_string() && type->as_string() == "public-key")) {
    throw WebAuthnError(kMalformed, "type must be public-key");
  }
  if (raw_id.empty()) {
    throw WebAuthnError(kMalformed, "rawId is empty");
  }
  return raw_id;
}

// §7.1 steps 7-11 / §7.2 steps 10-14.
void check_client_data(const RelyingParty& rp, const ClientData& cd, std::string_view type,
                       std::string_view issued_challenge) {
  if (cd.type != type) {
    throw WebAuthnError("webauthn_wrong_type", "clientDataJSON type is '" + cd.type + "', expected " + std::string(type));
  }
  if (!equal_constant_time(cd.challenge, issued_challenge)) {
    throw WebAuthnError("webauthn_challenge_mismatch", "clientDataJSON carries another challenge");
  }
  if (std::find(rp.origins.begin(), rp.origins.end(), cd.origin) == rp.origins.end()) {
    throw WebAuthnError("webauthn_origin_mismatch", "origin '" + cd.origin + "' is not an origin of this relying party");
  }
  if (cd.cross_origin || cd.has_top_origin) {
    throw WebAuthnError("webauthn_cross_origin", "ceremonies inside a cross-origin frame are not accepted");
  }
}

// §7.1 steps 14-16 / §7.2 steps 15-17, on every path (libfido2 skips them for `none`).
void check_authenticator_data(const RelyingParty& rp, const AuthenticatorData& ad) {
  if (!equal_constant_time(ad.rp_id_hash, sha256(rp.rp_id))) {
    throw WebAuthnError("webauthn_rp_id_mismatch", "authenticatorData is for another relying party id than '" +
                                                       rp.rp_id + "'");
  }
  if (!ad.up()) {
    throw WebAuthnError("webauthn_user_not_present", "the authenticator did not test user presence");
  }
  if (rp.require_uv && !ad.uv()) {
    throw WebAuthnError("webauthn_user_not_verified", "this relying party requires user verification");
  }
}

}  // namespace

RegistrationResponse read_registration_response(const boost::json::object& credential) {
  RegistrationResponse r;
  r.credential_id = credential_id_of(credential);
  const boost::json::object& response = object_member(credential, "response");
  r.client_data = parse_client_data(*binary_member(response, "clientDataJSON", true));
  r.attestation_object = *binary_member(response, "attestationObject", true);
  if (const boost::json::value* t = response.if_contains("transports"); t != nullptr && t->is_array()) {
    for (const boost::json::value& v : t->as_array()) {
      if (v.is_string() && v.as_string().size() <= 32 && r.transports.size() < 8) {
        r.transports.emplace_back(v.as_string());
      }
    }
  }
  return r;
}

AssertionResponse read_assertion_response(const boost::json::object& credential) {
  AssertionResponse r;
  r.credential_id = credential_id_of(credential);
  const boost::json::object& response = object_member(credential, "response");
  r.client_data = parse_client_data(*binary_member(response, "clientDataJSON", true));
  r.authenticator_data = *binary_member(response, "authenticatorData", true);
  r.signature = *binary_member(response, "signature", true);
  r.user_handle = binary_member(response, "userHandle", false);
  if (r.user_handle && r.user_handle->empty()) {
    r.user_handle.reset();
  }
  return r;
}

NewCredential verify_registration(const RelyingParty& rp, const RegistrationResponse& response,
                                  std::string_view issued_challenge) {
  check_client_data(rp, response.client_data, "webauthn.create", issued_challenge);
  const CborItem object = load_cbor_exact(response.attestation_object);
  if (!object || !cbor_isa_map(object.get())) {
    throw WebAuthnError(kMalformed, "attestationObject is not one CBOR map");
  }
  const std::optional<std::string> fmt = text_of(map_member(object.get(), "fmt", kMalformed));
  const cbor_item_t* att_stmt = map_member(object.get(), "attStmt", kMalformed);
  const std::optional<std::string> auth_data_bytes = bytes_of(map_member(object.get(), "authData", kMalformed));
  if (!fmt || att_stmt == nullptr || !auth_data_bytes) {
    throw WebAuthnError(kMalformed, "attestationObject needs fmt, attStmt and authData");
  }
  const AuthenticatorData ad = parse_authenticator_data(*auth_data_bytes);
  if (!ad.attested) {
    throw WebAuthnError(kMalformed, "authenticatorData carries no attested credential");
  }
  check_authenticator_data(rp, ad);
  if (ad.attested->credential_id != response.credential_id) {
    throw WebAuthnError(kMalformed, "rawId is not the attested credential's id");
  }
  const CoseKey key = parse_cose_key(ad.attested->public_key_cose);  // §7.1 s20: only the algorithms we offer
  const AttestationOutcome outcome =
      verify_attestation(StatementInput{*fmt, att_stmt, &ad, &key, response.client_data.raw, rp.rp_id, rp.require_uv});
  const bool trusted = rp.attestation == "direct";
  if (trusted) {
    require_trusted_chain(outcome, rp.trust_anchors_pem, rp.attestation_time);
  }
  NewCredential c;
  c.credential_id = ad.attested->credential_id;
  c.public_key_cose = ad.attested->public_key_cose;
  c.alg = key.alg;
  c.sign_count = ad.sign_count;
  c.user_verified = ad.uv();
  c.backup_eligible = ad.be();
  c.backed_up = ad.bs();
  c.aaguid = ad.attested->aaguid;
  c.attestation_format = outcome.format;
  c.attestation_type = outcome.type;
  c.attestation_trusted = trusted;
  c.transports = response.transports;
  return c;
}

VerifiedAssertion verify_assertion(const RelyingParty& rp, const AssertionResponse& response,
                                   std::string_view issued_challenge, const StoredCredential& stored) {
  check_client_data(rp, response.client_data, "webauthn.get", issued_challenge);
  const AuthenticatorData ad = parse_authenticator_data(response.authenticator_data);
  if (ad.attested) {
    throw WebAuthnError(kMalformed, "an assertion's authenticatorData carries no attested credential");
  }
  check_authenticator_data(rp, ad);
  if (ad.be() != stored.backup_eligible) {  // §7.2 s19: a credential's eligibility never changes
    throw WebAuthnError("webauthn_backup_eligibility_changed",
                        "the credential's backup eligibility differs from when it was registered");
  }
  const CoseKey key = parse_cose_key(stored.public_key_cose);
  const FidoResult r = verify_assertion_signature(AssertionCheck{&key, &ad, response.signature,
                                                                 response.client_data.raw, rp.rp_id, rp.require_uv});
  if (!r.ok()) {
    throw WebAuthnError("webauthn_verification_failed", "the assertion's signature does not verify (" + r.message() + ")");
  }
  VerifiedAssertion v;
  v.sign_count = ad.sign_count;
  v.user_verified = ad.uv();
  v.backed_up = ad.bs();
  // §7.2 s22: counters that move must move forward; both zero is a
  // synced passkey that keeps none.
  if ((ad.sign_count != 0 || stored.sign_count != 0) && ad.sign_count <= stored.sign_count) {
    if (!rp.allow_sign_count_regression) {
      throw WebAuthnError("webauthn_sign_count_regressed",
                          "the authenticator's signature counter went backwards: the credential may be cloned");
    }
    v.sign_count_regressed = true;
    v.sign_count = stored.sign_count;
  }
  return v;
}

}  // namespace orbitnest::authd::webauthn
