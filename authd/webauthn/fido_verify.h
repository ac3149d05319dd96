#pragma once
// libfido2 1.12 as a server-side verifier, every handle behind RAII. It
// checks signatures (and rpIdHash, UP, UV as told); everything WebAuthn
// adds on top — client data, challenge, origin, counters — is the
// relying party's (relying_party.h). See ../shared/reference/webauthn-rp.md
// for the call order this follows and the traps it avoids.
#include <string>
#include <string_view>

#include "authd/webauthn/authenticator_data.h"
#include "authd/webauthn/cose_key.h"

namespace orbitnest::authd::webauthn {

// libfido2's answer: FIDO_OK (0) or its error code.
struct FidoResult {
  int code = 0;
  bool ok() const { return code == 0; }
  std::string message() const;  // fido_strerr
};

struct CredentialCheck {
  std::string_view fmt;          // packed | fido-u2f | tpm
  std::string_view att_stmt_cbor;  // the attStmt map, CBOR
  const AuthenticatorData* auth_data;
  int alg;                       // the credential's COSE alg
  std::string_view client_data_json;
  std::string_view rp_id;
  bool require_uv;
  bool self_attested;            // packed without x5c
};
FidoResult verify_attestation_statement(const CredentialCheck& check);

struct AssertionCheck {
  const CoseKey* key;
  const AuthenticatorData* auth_data;
  std::string_view signature;
  std::string_view client_data_json;
  std::string_view rp_id;
  bool require_uv;
};
FidoResult verify_assertion_signature(const AssertionCheck& check);

}  // namespace orbitnest::authd::webauthn
