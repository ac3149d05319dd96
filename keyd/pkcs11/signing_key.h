#pragma once
// JWS signing keys inside the token: generation (non-extractable,
// sensitive, on the token), the public half, and signing. The algorithm
// table maps each JOSE algorithm to its PKCS#11 mechanisms.
#include <p11-kit/pkcs11.h>

#include <optional>
#include <string>
#include <string_view>

#include "keyd/pkcs11/session.h"

namespace orbitnest::keyd::p11 {

enum class Algorithm { es256, rs256, eddsa };

struct AlgorithmInfo {
  Algorithm algorithm;
  std::string_view jose_name;  // "ES256", "RS256", "EdDSA"
  CK_KEY_TYPE key_type;
  CK_MECHANISM_TYPE keygen;
  CK_MECHANISM_TYPE sign;
  bool keyd_hashes;  // keyd computes SHA-256 and the token signs the digest
};

const AlgorithmInfo& algorithm_info(Algorithm a);
std::optional<Algorithm> parse_algorithm(std::string_view jose_name);

struct KeyPair {
  CK_OBJECT_HANDLE public_key;
  CK_OBJECT_HANDLE private_key;
};

// Labels and ids of both halves are `label`.
KeyPair generate_signing_key(Session& s, Algorithm a, const std::string& label);

struct PublicKey {
  Algorithm algorithm;
  std::string x, y;  // EC: affine coordinates (32 bytes each); Ed25519: x only
  std::string n, e;  // RSA: modulus, public exponent (big-endian)
};

PublicKey read_public_key(Session& s, Algorithm a, CK_OBJECT_HANDLE public_key);

// Signs `message` and returns the signature in JOSE form (ES256: r||s).
std::string sign_message(Session& s, Algorithm a, CK_OBJECT_HANDLE private_key, std::string_view message);

// True when the private key can never have left the token in clear.
bool private_key_is_locked_in(Session& s, CK_OBJECT_HANDLE private_key);

}  // namespace orbitnest::keyd::p11
