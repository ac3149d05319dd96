#include "keyd/keyring/jwk.h"

#include <botan/bigint.h>
#include <botan/ec_group.h>
#include <botan/ecdsa.h>
#include <botan/ed25519.h>
#include <botan/hash.h>
#include <botan/rsa.h>

#include <stdexcept>

#include "keyd/keyring/base64url.h"

namespace orbitnest::keyd {
namespace {

// RFC 7638 §3.2: only the required members, lexicographic order, no spaces.
std::string canonical_members(const p11::PublicKey& key) {
  switch (key.algorithm) {
    case p11::Algorithm::es256:
      return R"({"crv":"P-256","kty":"EC","x":")" + base64url_encode(key.x) + R"(","y":")" +
             base64url_encode(key.y) + "\"}";
    case p11::Algorithm::rs256:
      return R"({"e":")" + base64url_encode(key.e) + R"(","kty":"RSA","n":")" + base64url_encode(key.n) + "\"}";
    case p11::Algorithm::eddsa:
      return R"({"crv":"Ed25519","kty":"OKP","x":")" + base64url_encode(key.x) + "\"}";
  }
  return "";
}

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

std::string jwk_thumbprint(const p11::PublicKey& key) {
  const std::string members = canonical_members(key);
  auto sha256 = Botan::HashFunction::create_or_throw("SHA-256");
  sha256->update(members);
  const auto digest = sha256->final();
  return base64url_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

boost::json::object to_jwk(const p11::PublicKey& key, const std::string& kid) {
  boost::json::object jwk = boost::json::parse(canonical_members(key)).as_object();
  jwk["kid"] = kid;
  jwk["alg"] = p11::algorithm_info(key.algorithm).jose_name;
  jwk["use"] = "sig";
  jwk["key_ops"] = boost::json::array{"verify"};
  return jwk;
}

}  // namespace orbitnest::keyd
