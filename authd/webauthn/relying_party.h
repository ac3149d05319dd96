#pragma once
// The relying party's side of WebAuthn §7.1 (registration) and §7.2
// (authentication): everything libfido2 leaves to us — client data type,
// challenge and origin, rpIdHash on every path, UP/UV, BE/BS, the
// algorithm list, the attestation policy, credential id size, signature
// counters — in the order the spec gives. Pure: no database, no HTTP; the
// flows look the ceremony and the credential up and store the outcome.
#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "authd/webauthn/client_data.h"

namespace orbitnest::authd::webauthn {

struct RelyingParty {
  std::string rp_id;
  std::vector<std::string> origins;  // exact: web origins and android:apk-key-hash:<...>
  bool require_uv = true;
  std::string attestation = "none";  // none | indirect | direct (direct: a trusted chain is required)
  std::vector<std::string> trust_anchors_pem;
  std::chrono::system_clock::time_point attestation_time;  // when chains are validated
  bool allow_sign_count_regression = false;
};

// The browser's PublicKeyCredential JSON (W3C toJSON, SimpleWebAuthn's
// RegistrationResponseJSON / AuthenticationResponseJSON), binary members
// decoded. Throws WebAuthnError webauthn_malformed.
struct RegistrationResponse {
  std::string credential_id;  // rawId
  ClientData client_data;
  std::string attestation_object;
  std::vector<std::string> transports;
};
RegistrationResponse read_registration_response(const boost::json::object& credential);

struct AssertionResponse {
  std::string credential_id;  // rawId
  ClientData client_data;
  std::string authenticator_data;
  std::string signature;
  std::optional<std::string> user_handle;
};
AssertionResponse read_assertion_response(const boost::json::object& credential);

struct NewCredential {
  std::string credential_id;
  std::string public_key_cose;
  int alg = 0;
  std::uint32_t sign_count = 0;
  bool user_verified = false;
  bool backup_eligible = false;
  bool backed_up = false;
  std::string aaguid;  // 16 bytes
  std::string attestation_format;
  std::string attestation_type;  // none | self | basic | unverified
  // The statement chained to one of the realm's trust anchors (attestation
  // direct): only then does the AAGUID say which authenticator it is.
  bool attestation_trusted = false;
  std::vector<std::string> transports;
};
// Throws WebAuthnError with a webauthn_* code for every refusal.
NewCredential verify_registration(const RelyingParty& rp, const RegistrationResponse& response,
                                  std::string_view issued_challenge);

struct StoredCredential {
  std::string public_key_cose;
  std::uint32_t sign_count = 0;
  bool backup_eligible = false;
};
struct VerifiedAssertion {
  std::uint32_t sign_count = 0;
  bool user_verified = false;
  bool backed_up = false;
  bool sign_count_regressed = false;  // only when the realm allows it
};
VerifiedAssertion verify_assertion(const RelyingParty& rp, const AssertionResponse& response,
                                   std::string_view issued_challenge, const StoredCredential& stored);

}  // namespace orbitnest::authd::webauthn
