#include "authd/webauthn/cose_key.h"

#include "authd/webauthn/cbor_item.h"
#include "authd/webauthn/webauthn_error.h"

namespace orbitnest::authd::webauthn {
namespace {

constexpr const char* kMalformed = "webauthn_malformed";
constexpr const char* kUnsupported = "webauthn_unsupported_key";

// COSE labels (RFC 9052 §7.1, RFC 9053 §7).
constexpr std::int64_t kKty = 1, kAlg = 3, kCrv = -1, kX = -2, kY = -3, kRsaN = -1, kRsaE = -2;
constexpr std::int64_t kKtyOkp = 1, kKtyEc2 = 2, kKtyRsa = 3;
constexpr std::int64_t kCrvP256 = 1, kCrvEd25519 = 6;

std::string required_bytes(const cbor_item_t* map, std::int64_t label, std::size_t size) {
  const std::optional<std::string> b = bytes_of(map_member(map, label, kMalformed));
  if (!b || (size != 0 && b->size() != size)) {
    throw WebAuthnError(kMalformed, "the credential public key has a malformed member " + std::to_string(label));
  }
  return *b;
}

}  // namespace

CoseKey parse_cose_key(std::string_view cbor_bytes) {
  const CborItem map = load_cbor_exact(cbor_bytes);
  if (!map || !cbor_isa_map(map.get())) {
    throw WebAuthnError(kMalformed, "the credential public key is not a COSE_Key map");
  }
  const std::optional<std::int64_t> kty = int_of(map_member(map.get(), kKty, kMalformed));
  const std::optional<std::int64_t> alg = int_of(map_member(map.get(), kAlg, kMalformed));
  if (!kty || !alg) {
    throw WebAuthnError(kMalformed, "the credential public key has no kty or alg");
  }
  CoseKey key;
  key.alg = static_cast<int>(*alg);
  if (*alg == kCoseEs256) {
    if (*kty != kKtyEc2 || int_of(map_member(map.get(), kCrv, kMalformed)) != kCrvP256) {
      throw WebAuthnError(kUnsupported, "an ES256 key must be an EC2 key on P-256");
    }
    key.x = required_bytes(map.get(), kX, 32);
    key.y = required_bytes(map.get(), kY, 32);
    key.raw = key.x + key.y;
  } else if (*alg == kCoseEdDsa) {
    if (*kty != kKtyOkp || int_of(map_member(map.get(), kCrv, kMalformed)) != kCrvEd25519) {
      throw WebAuthnError(kUnsupported, "an EdDSA key must be an OKP key on Ed25519");
    }
    key.x = required_bytes(map.get(), kX, 32);
    key.raw = key.x;
  } else if (*alg == kCoseRs256) {
    if (*kty != kKtyRsa) {
      throw WebAuthnError(kUnsupported, "an RS256 key must be an RSA key");
    }
    // libfido2 verifies RSA-2048 with a 3-byte exponent only.
    key.n = required_bytes(map.get(), kRsaN, 256);
    key.e = required_bytes(map.get(), kRsaE, 3);
    key.raw = key.n + key.e;
  } else {
    throw WebAuthnError(kUnsupported, "credential algorithm " + std::to_string(*alg) +
                                          " is not accepted (ES256, EdDSA and RS256 are)");
  }
  return key;
}

}  // namespace orbitnest::authd::webauthn
