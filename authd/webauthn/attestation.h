#pragma once
// WebAuthn §8 attestation statements: packed (x5c and self), fido-u2f and
// tpm (alg RS1) are verified by libfido2; apple and android-key, which
// libfido2 1.12 does not know, with Botan; `none` has nothing to verify.
// A statement we can verify and that fails is refused; one we cannot
// verify (tpm with another alg, android-safetynet, ...) is reported as
// unverified and the realm's attestation policy decides (relying_party.h).
#include <cbor.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "authd/webauthn/authenticator_data.h"
#include "authd/webauthn/cose_key.h"

namespace orbitnest::authd::webauthn {

struct AttestationOutcome {
  std::string format;
  // none: no statement; self: signed by the credential's own key; basic:
  // signed by an attestation certificate (x5c); unverified: a statement
  // this server cannot check.
  std::string type;
  std::vector<std::string> x5c;  // DER certificates, leaf first (basic only)
};

struct StatementInput {
  std::string_view fmt;
  const cbor_item_t* att_stmt;  // the attStmt map
  const AuthenticatorData* auth_data;
  const CoseKey* key;
  std::string_view client_data_json;
  std::string_view rp_id;
  bool require_uv;
};

// Throws WebAuthnError webauthn_attestation_invalid for a statement that
// does not verify, webauthn_malformed for one not well formed.
AttestationOutcome verify_attestation(const StatementInput& in);

// Throws WebAuthnError webauthn_attestation_untrusted unless the basic
// statement's x5c chains to one of `anchors_pem` (Botan's X.509 path
// validation, at `at`).
void require_trusted_chain(const AttestationOutcome& outcome, const std::vector<std::string>& anchors_pem,
                           std::chrono::system_clock::time_point at);

}  // namespace orbitnest::authd::webauthn
