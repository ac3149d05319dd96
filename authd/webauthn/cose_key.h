#pragma once
// A credential public key as COSE_Key (RFC 9052/9053), the form an
// authenticator reports it in: what we store, and the raw form libfido2's
// verifiers take (es256: X‖Y, rs256: n‖e, eddsa: the 32-byte point).
#include <optional>
#include <string>
#include <string_view>

namespace orbitnest::authd::webauthn {

// The algorithms we offer in pubKeyCredParams and libfido2 verifies.
inline constexpr int kCoseEs256 = -7;
inline constexpr int kCoseEdDsa = -8;
inline constexpr int kCoseRs256 = -257;

struct CoseKey {
  int alg = 0;
  std::string raw;  // libfido2's layout for alg
  // For Botan (attestation certificates' keys are compared with it).
  std::string x, y;  // EC2 (P-256) coordinates
  std::string n, e;  // RSA
};

// Parses a COSE_Key map (its CBOR bytes, nothing after them). Throws
// WebAuthnError webauthn_unsupported_key for another algorithm or curve,
// webauthn_malformed for anything not well formed.
CoseKey parse_cose_key(std::string_view cbor_bytes);

}  // namespace orbitnest::authd::webauthn
