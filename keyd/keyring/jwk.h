#pragma once
// keyd's public keys as JWKs, and the key id: the RFC 7638 thumbprint, so
// a kid names exactly one key and anyone can recompute it. (Reading a JWK
// back, which authd needs, is jwk_public_key.h, outside keyd_custody.)
#include <boost/json.hpp>
#include <string>

#include "keyd/pkcs11/signing_key.h"

namespace orbitnest::keyd {

boost::json::object to_jwk(const p11::PublicKey& key, const std::string& kid);
std::string jwk_thumbprint(const p11::PublicKey& key);

}  // namespace orbitnest::keyd
