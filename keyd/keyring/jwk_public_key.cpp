#include "keyd/keyring/jwk_public_key.h"

#include <botan/bigint.h>
#include <botan/ec_group.h>
#include <botan/ecdsa.h>
#include <botan/ed25519.h>
#include <botan/rsa.h>

#include <stdexcept>

#include "keyd/keyring/base64url.h"

namespace orbitnest::keyd {
namespace {

std::string member(const boost::json::object& jwk, const char* name) {
  const boost::json::value* v = jwk.if_contains(name);
  const std::optional<std::string> raw =
      v != nullptr && v->is_string() ? base64url_decode(v->as_string()) : std::nullopt;
  if (!raw) {
    throw std::runtime_error(std::string("JWK member ") + name + " is missing or not base64url");
  }
  return *raw;
}

Botan::BigInt big(const std::string& bytes) {
  return Botan::BigInt(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

}  // namespace

std::unique_ptr<Botan::Public_Key> public_key_from_jwk(const boost::json::object& jwk) {
  const boost::json::value* kty = jwk.if_contains("kty");
  const std::string type = kty != nullptr && kty->is_string() ? std::string(kty->as_string()) : "";
  if (type == "EC") {
    static const Botan::EC_Group group("secp256r1");
    return std::make_unique<Botan::ECDSA_PublicKey>(group, group.point(big(member(jwk, "x")), big(member(jwk, "y"))));
  }
  if (type == "RSA") {
    return std::make_unique<Botan::RSA_PublicKey>(big(member(jwk, "n")), big(member(jwk, "e")));
  }
  if (type == "OKP") {
    const std::string x = member(jwk, "x");
    return std::make_unique<Botan::Ed25519_PublicKey>(std::vector<std::uint8_t>(x.begin(), x.end()));
  }
  throw std::runtime_error("unsupported JWK kty '" + type + "'");
}

}  // namespace orbitnest::keyd
