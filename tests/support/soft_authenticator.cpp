#include "tests/support/soft_authenticator.h"

#include <botan/hash.h>
#include <botan/pubkey.h>
#include <cbor.h>

#include <cstdlib>

#include "keyd/keyring/base64url.h"

namespace orbitnest::test {
namespace {

std::string sha256(const std::string& data) {
  std::unique_ptr<Botan::HashFunction> h = Botan::HashFunction::create_or_throw("SHA-256");
  const Botan::secure_vector<uint8_t> out = h->process(data);
  return std::string(out.begin(), out.end());
}

std::string b64(const std::string& bytes) { return keyd::base64url_encode(bytes); }

struct CborRelease {
  void operator()(cbor_item_t* item) const { cbor_decref(&item); }
};
using Cbor = std::unique_ptr<cbor_item_t, CborRelease>;

cbor_item_t* int_item(std::int64_t v) {
  return v >= 0 ? cbor_build_uint64(static_cast<std::uint64_t>(v)) : cbor_build_negint64(static_cast<std::uint64_t>(-1 - v));
}

void put(cbor_item_t* map, cbor_item_t* key, cbor_item_t* value) {
  cbor_map_add(map, cbor_pair{cbor_move(key), cbor_move(value)});
}


std::string encode(const cbor_item_t* item) {
  unsigned char* buffer = nullptr;
  std::size_t size = 0;
  const std::size_t length = cbor_serialize_alloc(item, &buffer, &size);
  std::string out(reinterpret_cast<const char*>(buffer), length);
  std::free(buffer);
  return out;
}

cbor_item_t* bstr(const std::string& s) {
  return cbor_build_bytestring(reinterpret_cast<cbor_data>(s.data()), s.size());
}

}  // namespace

std::string client_data_json(const std::string& type, const std::string& challenge, const std::string& origin) {
  return boost::json::serialize(boost::json::object{
      {"type", type}, {"challenge", challenge}, {"origin", origin}, {"crossOrigin", false}});
}

SoftAuthenticator::SoftAuthenticator(std::string rp) : rp_id(std::move(rp)) {
  m_key = std::make_unique<Botan::ECDSA_PrivateKey>(m_rng, Botan::EC_Group("secp256r1"));
  const Botan::secure_vector<uint8_t> id = m_rng.random_vec(32);
  m_credential_id = std::string(id.begin(), id.end());
}

std::string SoftAuthenticator::credential_id_b64() const { return b64(m_credential_id); }

std::string SoftAuthenticator::cose_key() const {
  const Botan::PointGFp& point = m_key->public_point();
  const Botan::secure_vector<uint8_t> x = Botan::BigInt::encode_1363(point.get_affine_x(), 32);
  const Botan::secure_vector<uint8_t> y = Botan::BigInt::encode_1363(point.get_affine_y(), 32);
  Cbor map(cbor_new_definite_map(5));
  put(map.get(), int_item(1), int_item(2));
  put(map.get(), int_item(3), int_item(-7));
  put(map.get(), int_item(-1), int_item(1));
  put(map.get(), int_item(-2), bstr(std::string(x.begin(), x.end())));
  put(map.get(), int_item(-3), bstr(std::string(y.begin(), y.end())));
  return encode(map.get());
}

std::string SoftAuthenticator::auth_data(bool attested) const {
  std::string ad = sha256(rp_id);
  ad.push_back(static_cast<char>(flags | (attested ? 0x40 : 0)));
  for (int shift = 24; shift >= 0; shift -= 8) {
    ad.push_back(static_cast<char>((counter >> shift) & 0xff));
  }
  if (attested) {
    ad += std::string(16, '\0');  // AAGUID: none
    ad.push_back(static_cast<char>(m_credential_id.size() >> 8));
    ad.push_back(static_cast<char>(m_credential_id.size() & 0xff));
    ad += m_credential_id;
    ad += cose_key();
  }
  return ad;
}

std::string SoftAuthenticator::sign(const std::string& data) const {
  const SoftAuthenticator& by = signer != nullptr ? *signer : *this;
  Botan::PK_Signer signer_(*by.m_key, m_rng, "EMSA1(SHA-256)", Botan::DER_SEQUENCE);
  const std::vector<uint8_t> sig = signer_.sign_message(reinterpret_cast<const uint8_t*>(data.data()), data.size(), m_rng);
  return std::string(sig.begin(), sig.end());
}

boost::json::object SoftAuthenticator::registration(const std::string& challenge, const std::string& origin) const {
  const std::string cdj = client_data_json("webauthn.create", challenge, origin);
  Cbor object(cbor_new_definite_map(3));
  put(object.get(), cbor_build_string("fmt"), cbor_build_string("none"));
  put(object.get(), cbor_build_string("attStmt"), cbor_new_definite_map(0));
  put(object.get(), cbor_build_string("authData"), bstr(auth_data(true)));
  return boost::json::object{
      {"id", b64(m_credential_id)},
      {"rawId", b64(m_credential_id)},
      {"type", "public-key"},
      {"clientExtensionResults", boost::json::object{}},
      {"response", boost::json::object{{"clientDataJSON", b64(cdj)},
                                       {"attestationObject", b64(encode(object.get()))},
                                       {"transports", boost::json::array{"internal"}}}}};
}

boost::json::object SoftAuthenticator::assertion(const std::string& challenge, const std::string& origin,
                                                 const std::optional<std::string>& user_handle) {
  ++counter;
  const std::string cdj = client_data_json("webauthn.get", challenge, origin);
  const std::string ad = auth_data(false);
  boost::json::object response{{"clientDataJSON", b64(cdj)},
                               {"authenticatorData", b64(ad)},
                               {"signature", b64(sign(ad + sha256(cdj)))}};
  if (user_handle) {
    response["userHandle"] = b64(*user_handle);
  }
  return boost::json::object{{"id", b64(m_credential_id)},
                             {"rawId", b64(m_credential_id)},
                             {"type", "public-key"},
                             {"clientExtensionResults", boost::json::object{}},
                             {"response", response}};
}

}  // namespace orbitnest::test
