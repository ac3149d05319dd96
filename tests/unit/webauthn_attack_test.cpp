// authd/webauthn fed attacker-made attestation statements. Tests named
// ... prove a defect (a "DEFECT:" comment says which); enable them
// with the fix.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <botan/auto_rng.h>
#include <botan/ecdsa.h>
#include <botan/hash.h>
#include <botan/pubkey.h>
#include <botan/x509self.h>
#include <cbor.h>

#include <cstdlib>

#include "tests/support/webauthn_bytes.h"
#include "authd/webauthn/relying_party.h"
#include "authd/webauthn/webauthn_base64.h"
#include "authd/webauthn/webauthn_error.h"

namespace orbitnest::authd::webauthn {
namespace {

using test::cbor_bytes;
using test::cbstr;
using test::cint;
using test::cput;
using test::es256_cose_key;
using test::sha256;

constexpr const char* kOrigin = "https://app.example";
constexpr const char* kChallenge = "Y2hhbGxlbmdlLWNoYWxsZW5nZS1jaGFsbGVuZ2UtMzI";


// A registration whose statement is `fmt` with a made-up certificate (no
// FIDO AAGUID extension, no Apple nonce extension) and, for packed, a
// valid signature by that certificate's key.
boost::json::object made_up_statement(const std::string& fmt) {
  Botan::AutoSeeded_RNG rng;
  Botan::ECDSA_PrivateKey credential(rng, Botan::EC_Group("secp256r1"));
  const std::string id(32, '\x42');
  const std::string cose = es256_cose_key(credential);
  std::string ad = sha256("localhost");
  ad.push_back(static_cast<char>(0x01 | 0x04 | 0x40));
  ad += std::string(4, '\0') + std::string(16, '\0');
  ad.push_back(0);
  ad.push_back(static_cast<char>(id.size()));
  ad += id + cose;
  const std::string cdj = boost::json::serialize(
      boost::json::object{{"type", "webauthn.create"}, {"challenge", kChallenge}, {"origin", kOrigin}});
  Botan::ECDSA_PrivateKey attester(rng, Botan::EC_Group("secp256r1"));
  Botan::X509_Cert_Options opts("Made Up/US/Nobody/Authenticator Attestation");
  const std::vector<uint8_t> der = Botan::X509::create_self_signed_cert(opts, attester, "SHA-256", rng).BER_encode();
  const std::string signed_bytes = ad + sha256(cdj);
  Botan::PK_Signer signer(attester, rng, "EMSA1(SHA-256)", Botan::DER_SEQUENCE);
  const std::vector<uint8_t> sig =
      signer.sign_message(reinterpret_cast<const uint8_t*>(signed_bytes.data()), signed_bytes.size(), rng);
  cbor_item_t* stmt = cbor_new_definite_map(3);
  if (fmt == "packed") {
    cput(stmt, cbor_build_string("alg"), cint(-7));
    cput(stmt, cbor_build_string("sig"), cbstr(std::string(sig.begin(), sig.end())));
  }
  cbor_item_t* x5c = cbor_new_definite_array(1);
  cbor_array_push(x5c, cbor_move(cbstr(std::string(der.begin(), der.end()))));
  cput(stmt, cbor_build_string("x5c"), x5c);
  cbor_item_t* object = cbor_new_definite_map(3);
  cput(object, cbor_build_string("fmt"), cbor_build_string(fmt.c_str()));
  cput(object, cbor_build_string("attStmt"), stmt);
  cput(object, cbor_build_string("authData"), cbstr(ad));
  return boost::json::object{
      {"rawId", encode_base64url(id)},
      {"type", "public-key"},
      {"response", boost::json::object{{"clientDataJSON", encode_base64url(cdj)},
                                       {"attestationObject", encode_base64url(cbor_bytes(object))}}}};
}

RelyingParty rp() {
  RelyingParty r;
  r.rp_id = "localhost";
  r.origins = {kOrigin};
  r.attestation = "none";
  r.attestation_time = std::chrono::system_clock::now();
  return r;
}

// What verify_registration answers: "" accepted, a webauthn_* code, or
// "other exception: ..." for anything that is not a WebAuthnError (authd
// turns those into 500 unexpected_failure).
std::string outcome_of(const boost::json::object& credential) {
  try {
    const NewCredential c = verify_registration(rp(), read_registration_response(credential), kChallenge);
    return "accepted as " + c.attestation_type;
  } catch (const WebAuthnError& e) {
    return e.code();
  } catch (const std::exception& e) {
    return std::string("other exception: ") + e.what();
  }
}

// DEFECT (low): attestation.cpp check_packed_aaguid and verify_apple call
// extension_value() -> Botan Extensions::get_extension_bits() outside any
// try; Botan 2 throws Invalid_Argument when the certificate lacks the
// extension. A packed x5c leaf without the (optional, §8.2.1) AAGUID
// extension, or an apple leaf without the nonce, ends as HTTP 500
// unexpected_failure instead of a verdict: a spec-valid packed
// authenticator cannot register, and anyone can make authd log internal
// errors at will.
TEST(WebAuthnAttack, PackedLeafWithoutAaguidExtensionGetsAVerdictNotAnException) {
  const std::string got = outcome_of(made_up_statement("packed"));
  EXPECT_TRUE(got.rfind("other exception", 0) != 0) << "DEFECT: " << got;
  EXPECT_EQ(got, "accepted as basic") << "the extension is optional for packed (§8.2.1)";
}

TEST(WebAuthnAttack, AppleLeafWithoutNonceExtensionIsRefusedAsInvalid) {
  const std::string got = outcome_of(made_up_statement("apple"));
  EXPECT_EQ(got, "webauthn_attestation_invalid") << "DEFECT: " << got;
}

}  // namespace
}  // namespace orbitnest::authd::webauthn
