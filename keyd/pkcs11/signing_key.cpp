#include "keyd/pkcs11/signing_key.h"

#include <botan/hash.h>

#include <array>
#include <stdexcept>

#include "keyd/pkcs11/attributes.h"
#include "keyd/pkcs11/objects.h"
#include "keyd/pkcs11/pkcs11_error.h"

namespace orbitnest::keyd::p11 {
namespace {

constexpr std::array<AlgorithmInfo, 3> kAlgorithms = {{
    {Algorithm::es256, "ES256", CKK_EC, CKM_EC_KEY_PAIR_GEN, CKM_ECDSA, true},
    {Algorithm::rs256, "RS256", CKK_RSA, CKM_RSA_PKCS_KEY_PAIR_GEN, CKM_SHA256_RSA_PKCS, false},
    {Algorithm::eddsa, "EdDSA", CKK_EC_EDWARDS, CKM_EC_EDWARDS_KEY_PAIR_GEN, CKM_EDDSA, false},
}};

// DER OIDs: prime256v1 (1.2.840.10045.3.1.7) and id-Ed25519 (1.3.101.112).
constexpr std::string_view kP256Oid("\x06\x08\x2a\x86\x48\xce\x3d\x03\x01\x07", 10);
constexpr std::string_view kEd25519Oid("\x06\x03\x2b\x65\x70", 5);
constexpr CK_ULONG kRsaBits = 3072;

// CKA_EC_POINT is a DER OCTET STRING around the point.
std::string unwrap_octet_string(const std::string& der) {
  if (der.size() < 2 || static_cast<unsigned char>(der[0]) != 0x04) {
    return der;  // some modules return the raw point
  }
  std::size_t len = static_cast<unsigned char>(der[1]);
  std::size_t off = 2;
  if (len & 0x80) {
    const std::size_t n = len & 0x7f;
    len = 0;
    for (std::size_t i = 0; i < n; ++i) {
      len = (len << 8) | static_cast<unsigned char>(der.at(2 + i));
    }
    off += n;
  }
  if (off + len != der.size()) {
    return der;
  }
  return der.substr(off);
}

std::string strip_leading_zeros(std::string s) {
  const std::size_t first = s.find_first_not_of('\0');
  return first == std::string::npos ? std::string(1, '\0') : s.substr(first);
}

}  // namespace

const AlgorithmInfo& algorithm_info(Algorithm a) {
  for (const AlgorithmInfo& i : kAlgorithms) {
    if (i.algorithm == a) {
      return i;
    }
  }
  throw std::logic_error("unknown algorithm");
}

std::optional<Algorithm> parse_algorithm(std::string_view jose_name) {
  for (const AlgorithmInfo& i : kAlgorithms) {
    if (i.jose_name == jose_name) {
      return i.algorithm;
    }
  }
  return std::nullopt;
}

KeyPair generate_signing_key(Session& s, Algorithm a, const std::string& label) {
  const AlgorithmInfo& info = algorithm_info(a);
  AttributeList pub;
  pub.add_bool(CKA_TOKEN, true)
      .add_bool(CKA_PRIVATE, false)
      .add_bool(CKA_VERIFY, true)
      .add_bytes(CKA_LABEL, label)
      .add_bytes(CKA_ID, label);
  AttributeList priv;
  priv.add_bool(CKA_TOKEN, true)
      .add_bool(CKA_PRIVATE, true)
      .add_bool(CKA_SENSITIVE, true)
      .add_bool(CKA_EXTRACTABLE, false)
      .add_bool(CKA_SIGN, true)
      .add_bool(CKA_DECRYPT, false)
      .add_bool(CKA_UNWRAP, false)
      .add_bool(CKA_DERIVE, false)
      .add_bytes(CKA_LABEL, label)
      .add_bytes(CKA_ID, label);
  switch (a) {
    case Algorithm::es256:
      pub.add_bytes(CKA_EC_PARAMS, kP256Oid);
      break;
    case Algorithm::eddsa:
      pub.add_bytes(CKA_EC_PARAMS, kEd25519Oid);
      break;
    case Algorithm::rs256: {
      static constexpr std::string_view kF4("\x01\x00\x01", 3);
      pub.add_ulong(CKA_MODULUS_BITS, kRsaBits).add_bytes(CKA_PUBLIC_EXPONENT, kF4);
      break;
    }
  }
  CK_MECHANISM mech{info.keygen, nullptr, 0};
  KeyPair pair{};
  check("C_GenerateKeyPair", s.fn().C_GenerateKeyPair(s.handle(), &mech, pub.data(), pub.count(), priv.data(),
                                                      priv.count(), &pair.public_key, &pair.private_key));
  return pair;
}

PublicKey read_public_key(Session& s, Algorithm a, CK_OBJECT_HANDLE public_key) {
  PublicKey out;
  out.algorithm = a;
  if (a == Algorithm::rs256) {
    out.n = strip_leading_zeros(get_attribute(s, public_key, CKA_MODULUS));
    out.e = strip_leading_zeros(get_attribute(s, public_key, CKA_PUBLIC_EXPONENT));
    return out;
  }
  const std::string point = unwrap_octet_string(get_attribute(s, public_key, CKA_EC_POINT));
  if (a == Algorithm::es256) {
    if (point.size() != 65 || point[0] != '\x04') {
      throw std::runtime_error("unexpected P-256 public point encoding");
    }
    out.x = point.substr(1, 32);
    out.y = point.substr(33, 32);
  } else {
    if (point.size() != 32) {
      throw std::runtime_error("unexpected Ed25519 public key encoding");
    }
    out.x = point;
  }
  return out;
}

std::string sign_message(Session& s, Algorithm a, CK_OBJECT_HANDLE private_key, std::string_view message) {
  const AlgorithmInfo& info = algorithm_info(a);
  std::string input(message);
  if (info.keyd_hashes) {
    // keyd hashes what it built itself; the token never signs a digest
    // handed in from outside.
    auto sha256 = Botan::HashFunction::create_or_throw("SHA-256");
    sha256->update(reinterpret_cast<const std::uint8_t*>(message.data()), message.size());
    const Botan::secure_vector<std::uint8_t> digest = sha256->final();
    input.assign(reinterpret_cast<const char*>(digest.data()), digest.size());
  }
  CK_MECHANISM mech{info.sign, nullptr, 0};
  check("C_SignInit", s.fn().C_SignInit(s.handle(), &mech, private_key));
  std::string sig(512, '\0');
  CK_ULONG len = static_cast<CK_ULONG>(sig.size());
  check("C_Sign", s.fn().C_Sign(s.handle(), reinterpret_cast<CK_BYTE*>(input.data()),
                                static_cast<CK_ULONG>(input.size()), reinterpret_cast<CK_BYTE*>(sig.data()), &len));
  sig.resize(len);
  return sig;
}

bool private_key_is_locked_in(Session& s, CK_OBJECT_HANDLE private_key) {
  return get_bool_attribute(s, private_key, CKA_SENSITIVE) && !get_bool_attribute(s, private_key, CKA_EXTRACTABLE) &&
         get_bool_attribute(s, private_key, CKA_ALWAYS_SENSITIVE) &&
         get_bool_attribute(s, private_key, CKA_NEVER_EXTRACTABLE);
}

}  // namespace orbitnest::keyd::p11
