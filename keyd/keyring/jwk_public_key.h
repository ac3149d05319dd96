#pragma once
// The verification key a public JWK describes. Part of keyd_jose (with
// base64url), the small library both daemons link: authd verifies tokens
// with it and so never links keyd's PKCS#11 code (keyd_custody).
#include <botan/pk_keys.h>

#include <boost/json.hpp>
#include <memory>

namespace orbitnest::keyd {

// EC P-256, RSA, OKP Ed25519; throws std::runtime_error for anything else
// or malformed members.
std::unique_ptr<Botan::Public_Key> public_key_from_jwk(const boost::json::object& jwk);

}  // namespace orbitnest::keyd
