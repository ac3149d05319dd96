#include "authd/webauthn/attestation.h"

#include <botan/ber_dec.h>
#include <botan/certstor.h>
#include <botan/data_src.h>
#include <botan/ecdsa.h>
#include <botan/pubkey.h>
#include <botan/rsa.h>
#include <botan/x509cert.h>
#include <botan/x509path.h>

#include "authd/webauthn/cbor_item.h"
#include "authd/webauthn/digest.h"
#include "authd/webauthn/fido_verify.h"
#include "authd/webauthn/webauthn_error.h"

namespace orbitnest::authd::webauthn {
namespace {

constexpr const char* kMalformed = "webauthn_malformed";
constexpr const char* kInvalid = "webauthn_attestation_invalid";
constexpr std::int64_t kCoseRs1 = -65535;

// OIDs of the certificate extensions the formats bind to the ceremony.
constexpr const char* kAppleNonceOid = "1.2.840.113635.100.8.2";
constexpr const char* kAndroidKeyDescriptionOid = "1.3.6.1.4.1.11129.2.1.17";
constexpr const char* kFidoAaguidOid = "1.3.6.1.4.1.45724.1.1.4";

[[noreturn]] void invalid(const std::string& what) { throw WebAuthnError(kInvalid, "attestation: " + what); }

std::vector<std::string> x5c_of(const cbor_item_t* att_stmt) {
  std::vector<std::string> chain;
  const cbor_item_t* x5c = map_member(att_stmt, "x5c", kMalformed);
  if (x5c == nullptr) {
    return chain;
  }
  if (!cbor_isa_array(x5c) || cbor_array_size(x5c) == 0 || cbor_array_size(x5c) > 8) {
    throw WebAuthnError(kMalformed, "attestation: x5c must be a non-empty array of certificates");
  }
  cbor_item_t** items = cbor_array_handle(x5c);
  for (std::size_t i = 0; i < cbor_array_size(x5c); ++i) {
    std::optional<std::string> der = bytes_of(items[i]);
    if (!der) {
      throw WebAuthnError(kMalformed, "attestation: an x5c member is not a byte string");
    }
    chain.push_back(std::move(*der));
  }
  return chain;
}

Botan::X509_Certificate certificate(const std::string& der) {
  try {
    return Botan::X509_Certificate(reinterpret_cast<const uint8_t*>(der.data()), der.size());
  } catch (const std::exception&) {
    throw WebAuthnError(kMalformed, "attestation: a certificate does not parse");
  }
}

// The extension's value, empty when the certificate has none (Botan
// throws for a missing one).
std::vector<uint8_t> extension_value(const Botan::X509_Certificate& cert, const char* oid) {
  const Botan::OID id = Botan::OID::from_string(oid);
  if (!cert.v3_extensions().extension_set(id)) {
    return {};
  }
  return cert.v3_extensions().get_extension_bits(id);
}

// The certificate's key is the credential's key (apple, android-key).
bool same_key(const Botan::X509_Certificate& cert, const CoseKey& key) {
  if (key.alg == kCoseEs256) {
    const std::vector<uint8_t>& bits = cert.subject_public_key_bitstring();
    const std::string expected = "\x04" + key.x + key.y;
    return bits.size() == expected.size() && std::equal(bits.begin(), bits.end(), expected.begin(),
                                                        [](uint8_t a, char b) { return a == static_cast<uint8_t>(b); });
  }
  if (key.alg == kCoseRs256) {
    std::unique_ptr<Botan::Public_Key> pk = cert.load_subject_public_key();
    const auto* rsa = dynamic_cast<const Botan::RSA_PublicKey*>(pk.get());
    return rsa != nullptr &&
           rsa->get_n() == Botan::BigInt(reinterpret_cast<const uint8_t*>(key.n.data()), key.n.size()) &&
           rsa->get_e() == Botan::BigInt(reinterpret_cast<const uint8_t*>(key.e.data()), key.e.size());
  }
  return false;
}

// Apple anonymous attestation: the leaf's extension holds SHA-256 of
// authData ‖ SHA-256(clientDataJSON), and its key is the credential's.
void verify_apple(const StatementInput& in, const std::vector<std::string>& x5c) {
  if (x5c.empty()) {
    invalid("apple statement without x5c");
  }
  const Botan::X509_Certificate leaf = certificate(x5c.front());
  const std::string nonce = sha256(in.auth_data->raw + sha256(in.client_data_json));
  const std::vector<uint8_t> ext = extension_value(leaf, kAppleNonceOid);
  std::vector<uint8_t> stated;
  try {
    Botan::BER_Decoder(ext)
        .start_cons(Botan::SEQUENCE)
        .start_cons(Botan::ASN1_Tag(1), Botan::CONTEXT_SPECIFIC)
        .decode(stated, Botan::OCTET_STRING)
        .end_cons()
        .end_cons();
  } catch (const std::exception&) {
    invalid("apple certificate has no readable nonce extension");
  }
  if (std::string(stated.begin(), stated.end()) != nonce) {
    invalid("apple nonce does not match this ceremony");
  }
  if (!same_key(leaf, *in.key)) {
    invalid("apple certificate's key is not the credential's");
  }
}

// Android Key attestation: the leaf signs authData ‖ clientDataHash, its
// key is the credential's, and its key description carries the hash as
// attestationChallenge.
void verify_android_key(const StatementInput& in, const std::vector<std::string>& x5c) {
  const std::optional<std::int64_t> alg = int_of(map_member(in.att_stmt, "alg", kMalformed));
  const std::optional<std::string> sig = bytes_of(map_member(in.att_stmt, "sig", kMalformed));
  if (x5c.empty() || !alg || !sig) {
    throw WebAuthnError(kMalformed, "attestation: android-key needs alg, sig and x5c");
  }
  if (*alg != in.key->alg || (*alg != kCoseEs256 && *alg != kCoseRs256)) {
    invalid("android-key alg differs from the credential's");
  }
  const Botan::X509_Certificate leaf = certificate(x5c.front());
  if (!same_key(leaf, *in.key)) {
    invalid("android-key certificate's key is not the credential's");
  }
  const std::string client_data_hash = sha256(in.client_data_json);
  const std::string signed_bytes = in.auth_data->raw + client_data_hash;
  std::unique_ptr<Botan::Public_Key> pk = leaf.load_subject_public_key();
  const bool ecdsa = *alg == kCoseEs256;
  Botan::PK_Verifier verifier(*pk, ecdsa ? "EMSA1(SHA-256)" : "EMSA3(SHA-256)",
                              ecdsa ? Botan::DER_SEQUENCE : Botan::IEEE_1363);
  if (!verifier.verify_message(reinterpret_cast<const uint8_t*>(signed_bytes.data()), signed_bytes.size(),
                               reinterpret_cast<const uint8_t*>(sig->data()), sig->size())) {
    invalid("android-key signature does not verify");
  }
  std::vector<uint8_t> challenge;
  try {
    Botan::BigInt version, keymaster_version;
    std::size_t security_level = 0, keymaster_security_level = 0;
    Botan::BER_Decoder(extension_value(leaf, kAndroidKeyDescriptionOid))
        .start_cons(Botan::SEQUENCE)
        .decode(version)
        .decode(security_level, Botan::ENUMERATED, Botan::UNIVERSAL)
        .decode(keymaster_version)
        .decode(keymaster_security_level, Botan::ENUMERATED, Botan::UNIVERSAL)
        .decode(challenge, Botan::OCTET_STRING);
  } catch (const std::exception&) {
    invalid("android-key certificate has no readable key description");
  }
  if (std::string(challenge.begin(), challenge.end()) != client_data_hash) {
    invalid("android-key attestationChallenge does not match this ceremony");
  }
}

// packed basic: a leaf that names an AAGUID must name the credential's.
void check_packed_aaguid(const std::vector<std::string>& x5c, const AuthenticatorData& ad) {
  const std::vector<uint8_t> ext = extension_value(certificate(x5c.front()), kFidoAaguidOid);
  if (ext.empty()) {
    return;
  }
  std::vector<uint8_t> aaguid;
  try {
    Botan::BER_Decoder(ext).decode(aaguid, Botan::OCTET_STRING);
  } catch (const std::exception&) {
    invalid("packed certificate's AAGUID extension does not parse");
  }
  if (std::string(aaguid.begin(), aaguid.end()) != ad.attested->aaguid) {
    invalid("packed certificate's AAGUID is not the authenticator's");
  }
}

void verify_with_libfido2(const StatementInput& in, bool self) {
  const FidoResult r = verify_attestation_statement(CredentialCheck{
      in.fmt, serialize(in.att_stmt), in.auth_data, in.key->alg, in.client_data_json, in.rp_id, in.require_uv, self});
  if (!r.ok()) {
    invalid(std::string(in.fmt) + " statement does not verify (" + r.message() + ")");
  }
}

}  // namespace

AttestationOutcome verify_attestation(const StatementInput& in) {
  if (!cbor_isa_map(in.att_stmt)) {
    throw WebAuthnError(kMalformed, "attestation: attStmt is not a map");
  }
  AttestationOutcome out;
  out.format = std::string(in.fmt);
  const std::vector<std::string> x5c = x5c_of(in.att_stmt);
  if (in.fmt == "none") {
    if (cbor_map_size(in.att_stmt) != 0) {
      throw WebAuthnError(kMalformed, "attestation: a none statement must be empty");
    }
    out.type = "none";
  } else if (in.fmt == "packed") {
    const std::optional<std::int64_t> alg = int_of(map_member(in.att_stmt, "alg", kMalformed));
    if (x5c.empty()) {
      if (alg != in.key->alg) {  // libfido2 does not compare them (pitfall 14)
        invalid("packed self attestation's alg is not the credential's");
      }
      verify_with_libfido2(in, true);
      out.type = "self";
    } else {
      verify_with_libfido2(in, false);
      check_packed_aaguid(x5c, *in.auth_data);
      out.type = "basic";
      out.x5c = x5c;
    }
  } else if (in.fmt == "fido-u2f") {
    if (x5c.size() != 1) {
      throw WebAuthnError(kMalformed, "attestation: fido-u2f needs exactly one certificate");
    }
    verify_with_libfido2(in, false);
    out.type = "basic";
    out.x5c = x5c;
  } else if (in.fmt == "tpm") {
    if (int_of(map_member(in.att_stmt, "alg", kMalformed)) == kCoseRs1 && !x5c.empty()) {
      verify_with_libfido2(in, false);
      out.type = "basic";
      out.x5c = x5c;
    } else {
      out.type = "unverified";  // libfido2 1.12 checks TPM statements signed with RS1 only
    }
  } else if (in.fmt == "apple") {
    verify_apple(in, x5c);
    out.type = "basic";
    out.x5c = x5c;
  } else if (in.fmt == "android-key") {
    verify_android_key(in, x5c);
    out.type = "basic";
    out.x5c = x5c;
  } else {
    out.type = "unverified";  // android-safetynet, compound, formats to come
  }
  return out;
}

void require_trusted_chain(const AttestationOutcome& outcome, const std::vector<std::string>& anchors_pem,
                           std::chrono::system_clock::time_point at) {
  if (outcome.type != "basic" || outcome.x5c.empty()) {
    throw WebAuthnError("webauthn_attestation_untrusted",
                        "this realm requires an attestation certificate chain; the authenticator sent " +
                            (outcome.format == "none" ? std::string("none") : outcome.type + " " + outcome.format));
  }
  Botan::Certificate_Store_In_Memory store;
  for (const std::string& pem : anchors_pem) {
    Botan::DataSource_Memory source(pem);
    while (!source.end_of_data()) {
      try {
        store.add_certificate(Botan::X509_Certificate(source));
      } catch (const std::exception&) {
        break;  // trailing text after the last certificate
      }
    }
  }
  std::vector<Botan::X509_Certificate> chain;
  for (const std::string& der : outcome.x5c) {
    chain.push_back(certificate(der));
  }
  const Botan::Path_Validation_Restrictions restrictions(false, 110);
  const Botan::Path_Validation_Result result =
      Botan::x509_path_validate(chain, restrictions, store, "", Botan::Usage_Type::UNSPECIFIED, at);
  if (!result.successful_validation()) {
    throw WebAuthnError("webauthn_attestation_untrusted",
                        "the attestation certificate does not chain to a trusted root: " + result.result_string());
  }
}

}  // namespace orbitnest::authd::webauthn
