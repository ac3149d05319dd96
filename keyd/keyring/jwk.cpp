#include "keyd/keyring/jwk.h"

#include <botan/hash.h>

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

}  // namespace

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
