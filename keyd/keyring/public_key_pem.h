#pragma once
// A P-256 public key as SubjectPublicKeyInfo PEM, for operators and
// independent verifiers (openssl, keydctl audit verify --pubkey).
#include <string>

#include "keyd/pkcs11/signing_key.h"

namespace orbitnest::keyd {

std::string ec_public_key_pem(const p11::PublicKey& key);

}  // namespace orbitnest::keyd
