#include "tests/support/soft_authenticator.h"

#include <botan/pubkey.h>

#include "tests/support/webauthn_bytes.h"

namespace orbitnest::test {

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

std::string SoftAuthenticator::cose_key() const { return es256_cose_key(*m_key); }

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
  cbor_item_t* object = cbor_new_definite_map(3);
  cput(object, cbor_build_string("fmt"), cbor_build_string("none"));
  cput(object, cbor_build_string("attStmt"), cbor_new_definite_map(0));
  cput(object, cbor_build_string("authData"), cbstr(auth_data(true)));
  return boost::json::object{
      {"id", b64(m_credential_id)},
      {"rawId", b64(m_credential_id)},
      {"type", "public-key"},
      {"clientExtensionResults", boost::json::object{}},
      {"response", boost::json::object{{"clientDataJSON", b64(cdj)},
                                       {"attestationObject", b64(cbor_bytes(object))},
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
