#pragma once
// Bytes as WebAuthn tests build and read them: SHA-256, base64url (read
// padded or in the standard alphabet too, as the vectors hold it), hex,
// and CBOR items built with libcbor (canonical widths, as CTAP2 writes).
#include <botan/ecdsa.h>
#include <botan/hash.h>
#include <cbor.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "keyd/keyring/base64url.h"

namespace orbitnest::test {

inline std::string sha256(const std::string& data) {
  const Botan::secure_vector<uint8_t> out = Botan::HashFunction::create_or_throw("SHA-256")->process(data);
  return std::string(out.begin(), out.end());
}

inline std::string b64(const std::string& bytes) { return keyd::base64url_encode(bytes); }

inline std::string unb64(std::string text) {
  while (!text.empty() && text.back() == '=') text.pop_back();
  for (char& c : text) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return keyd::base64url_decode(text).value_or("");
}

inline std::string hex(const std::string& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
  }
  return out;
}

// Serialises `item` and releases it.
inline std::string cbor_bytes(cbor_item_t* item) {
  unsigned char* buffer = nullptr;
  std::size_t size = 0;
  const std::size_t length = cbor_serialize_alloc(item, &buffer, &size);
  std::string out(reinterpret_cast<const char*>(buffer), length);
  std::free(buffer);
  cbor_decref(&item);
  return out;
}
// A small integer in CTAP2's canonical width (libfido2 ignores wider COSE labels).
inline cbor_item_t* cint(std::int64_t v) {
  return v >= 0 ? cbor_build_uint8(static_cast<std::uint8_t>(v)) : cbor_build_negint8(static_cast<std::uint8_t>(-1 - v));
}
inline cbor_item_t* cbstr(const std::string& s) {
  return cbor_build_bytestring(reinterpret_cast<cbor_data>(s.data()), s.size());
}
inline void cput(cbor_item_t* map, cbor_item_t* k, cbor_item_t* v) { cbor_map_add(map, cbor_pair{cbor_move(k), cbor_move(v)}); }

// The COSE_Key (EC2, P-256, ES256) of `key`, as an authenticator reports it.
inline std::string es256_cose_key(const Botan::ECDSA_PublicKey& key) {
  const Botan::secure_vector<uint8_t> x = Botan::BigInt::encode_1363(key.public_point().get_affine_x(), 32);
  const Botan::secure_vector<uint8_t> y = Botan::BigInt::encode_1363(key.public_point().get_affine_y(), 32);
  cbor_item_t* cose = cbor_new_definite_map(5);
  cput(cose, cint(1), cint(2));
  cput(cose, cint(3), cint(-7));
  cput(cose, cint(-1), cint(1));
  cput(cose, cint(-2), cbstr(std::string(x.begin(), x.end())));
  cput(cose, cint(-3), cbstr(std::string(y.begin(), y.end())));
  return cbor_bytes(cose);
}

}  // namespace orbitnest::test
