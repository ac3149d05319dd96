#pragma once
// Public keys as JWKs, and the key id: the RFC 7638 thumbprint, so a kid
// names exactly one key and anyone can recompute it.
#include <botan/pk_keys.h>

#include <boost/json.hpp>
#include <memory>
#include <string>

#include "keyd/pkcs11/signing_key.h"

namespace orbitnest::keyd {

boost::json::object to_jwk(const p11::PublicKey& key, const std::string& kid);
std::string jwk_thumbprint(const p11::PublicKey& key);
// The verification key a public JWK describes (EC P-256, RSA, OKP Ed25519);
// throws std::runtime_error for anything else or malformed members.
std::unique_ptr<Botan::Public_Key> public_key_from_jwk(const boost::json::object& jwk);

}  // namespace orbitnest::keyd
