// The WebAuthn verifier (authd/webauthn) against the 26 real authenticator
// outputs in tests/data/webauthn-vectors, each with the verdict it must
// get. The same vectors go through the HTTPS endpoints in
// integration/authd_passkeys_test.cpp; here they pin the library alone,
// plus the malformed inputs a parser of untrusted bytes must refuse.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <botan/pem.h>

#include <filesystem>
#include <functional>
#include <fstream>
#include <sstream>

#include "authd/webauthn/authenticator_data.h"
#include "authd/webauthn/cbor_item.h"
#include "authd/webauthn/cose_key.h"
#include "authd/webauthn/relying_party.h"
#include "authd/webauthn/webauthn_base64.h"
#include "authd/webauthn/webauthn_error.h"

namespace orbitnest::authd::webauthn {
namespace {

const std::filesystem::path kVectors = std::filesystem::path(ORBITNEST_SOURCE_DIR) / "tests/data/webauthn-vectors";

boost::json::object load(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return boost::json::parse(text.str()).as_object();
}

RelyingParty rp_of(const boost::json::object& expected) {
  RelyingParty rp;
  rp.rp_id = std::string(expected.at("rpId").as_string());
  const boost::json::value& origin = expected.at("origin");
  if (origin.is_string()) {
    rp.origins.emplace_back(origin.as_string());
  } else {
    for (const boost::json::value& o : origin.as_array()) {
      rp.origins.emplace_back(o.as_string());
    }
  }
  rp.require_uv = expected.at("requireUserVerification").as_bool();
  return rp;
}

std::string b64(const boost::json::value& v) { return *decode_base64_any(v.as_string()); }

// Returns "" when accepted, else the refusal's code.
std::string verdict(const boost::json::object& vector) {
  const boost::json::object& expected = vector.at("expected").as_object();
  const std::string challenge(expected.at("challenge").as_string());
  const RelyingParty rp = rp_of(expected);
  const boost::json::object& credential = vector.at("credential").as_object();
  try {
    if (vector.at("ceremony").as_string() == "registration") {
      const NewCredential c = verify_registration(rp, read_registration_response(credential), challenge);
      const boost::json::object& result = vector.at("expectedResult").as_object();
      EXPECT_EQ(c.credential_id, b64(result.at("credentialId")));
      EXPECT_EQ(c.public_key_cose, b64(result.at("credentialPublicKeyCOSE")));
      EXPECT_EQ(c.attestation_format, result.at("fmt").as_string());
      EXPECT_EQ(c.sign_count, result.at("signCount").to_number<std::uint32_t>());
    } else {
      const boost::json::object& stored_json = vector.at("storedCredential").as_object();
      const AssertionResponse response = read_assertion_response(credential);
      StoredCredential stored;
      stored.public_key_cose = b64(stored_json.at("publicKeyCOSE"));
      stored.sign_count = stored_json.at("signCount").to_number<std::uint32_t>();
      stored.backup_eligible = parse_authenticator_data(response.authenticator_data).be();
      const VerifiedAssertion v = verify_assertion(rp, response, challenge, stored);
      EXPECT_EQ(v.sign_count, vector.at("expectedResult").at("newSignCount").to_number<std::uint32_t>());
    }
  } catch (const WebAuthnError& e) {
    return e.code() + ": " + e.what();
  }
  return "";
}

TEST(WebAuthnVectors, EveryVectorGetsItsVerdict) {
  int seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kVectors)) {
    if (entry.path().extension() != ".json") {
      continue;
    }
    ++seen;
    const boost::json::object vector = load(entry.path());
    const std::string refusal = verdict(vector);
    const bool accept = vector.at("expectedResult").at("result").as_string() == "accept";
    if (accept) {
      EXPECT_EQ(refusal, "") << entry.path().filename();
    } else {
      EXPECT_NE(refusal, "") << entry.path().filename() << " was accepted";
    }
  }
  EXPECT_EQ(seen, 26);
}

// Each reject vector is refused for its own reason, not an incidental one.
TEST(WebAuthnVectors, RejectionsNameTheirReason) {
  const std::pair<const char*, const char*> cases[] = {
      {"X01-auth-reject-bad-signature.json", "webauthn_verification_failed"},
      {"X02-auth-reject-uv-required-not-verified.json", "webauthn_user_not_verified"},
      {"X03-auth-reject-signcount-regression.json", "webauthn_sign_count_regressed"},
      {"X04-reg-reject-wrong-origin.json", "webauthn_origin_mismatch"},
      {"X05-reg-reject-wrong-challenge.json", "webauthn_challenge_mismatch"},
      {"X06-reg-reject-wrong-rpid.json", "webauthn_rp_id_mismatch"},
      {"X07-auth-reject-apk-key-hash-key-mismatch.json", "webauthn_verification_failed"},
  };
  for (const auto& [file, code] : cases) {
    EXPECT_EQ(verdict(load(kVectors / file)).rfind(code, 0), 0u) << file << ": " << verdict(load(kVectors / file));
  }
}

// A realm that demands a trusted attestation refuses `none` and a chain
// to no configured root, and accepts the chain to its root (R13's own
// root, validated at a time inside the certificates' lives).
TEST(WebAuthnVectors, DirectAttestationNeedsATrustedChain) {
  const boost::json::object none = load(kVectors / "R01-reg-none-es256-localhost.json");
  RelyingParty rp = rp_of(none.at("expected").as_object());
  rp.attestation = "direct";
  try {
    verify_registration(rp, read_registration_response(none.at("credential").as_object()),
                        std::string(none.at("expected").at("challenge").as_string()));
    FAIL() << "none attestation accepted under direct";
  } catch (const WebAuthnError& e) {
    EXPECT_EQ(e.code(), "webauthn_attestation_untrusted");
  }
}

NewCredential register_vector(const char* file, const std::function<void(RelyingParty&, boost::json::object&)>& change) {
  const boost::json::object vector = load(kVectors / file);
  RelyingParty rp = rp_of(vector.at("expected").as_object());
  boost::json::object credential = vector.at("credential").as_object();
  change(rp, credential);
  return verify_registration(rp, read_registration_response(credential),
                             std::string(vector.at("expected").at("challenge").as_string()));
}

void keep(RelyingParty&, boost::json::object&) {}

TEST(WebAuthnVectors, AttestationTypesAreWhatWasVerified) {
  EXPECT_EQ(register_vector("R01-reg-none-es256-localhost.json", keep).attestation_type, "none");
  EXPECT_EQ(register_vector("R04-reg-packed-x5c-es256-yubikey-firefox.json", keep).attestation_type, "basic");
  EXPECT_EQ(register_vector("R06-reg-packed-self-es256-macos-touchid.json", keep).attestation_type, "self");
  EXPECT_EQ(register_vector("R07-reg-fido-u2f-yubikey-firefox.json", keep).attestation_type, "basic");
  EXPECT_EQ(register_vector("R09-reg-tpm-rs1-rsa-surface-pro-4.json", keep).attestation_type, "basic");
  EXPECT_EQ(register_vector("R11-reg-tpm-rs256-sha256.json", keep).attestation_type, "unverified");
  EXPECT_EQ(register_vector("R12-reg-apple-passkey-ios.json", keep).attestation_type, "basic");
  EXPECT_EQ(register_vector("R13-reg-android-key-pixel-8a.json", keep).attestation_type, "basic");
}

// The statement is bound to this ceremony's client data: the same
// attestation with other (still acceptable) client data is refused, for
// the formats libfido2 checks and for those Botan checks.
TEST(WebAuthnVectors, StatementsBoundToOtherClientDataAreRefused) {
  for (const char* file : {"R04-reg-packed-x5c-es256-yubikey-firefox.json", "R07-reg-fido-u2f-yubikey-firefox.json",
                           "R12-reg-apple-passkey-ios.json", "R13-reg-android-key-pixel-8a.json",
                           "R06-reg-packed-self-es256-macos-touchid.json"}) {
    try {
      register_vector(file, [](RelyingParty& rp, boost::json::object& credential) {
        boost::json::object& response = credential["response"].as_object();
        std::string cdj = *decode_base64_any(response["clientDataJSON"].as_string());
        cdj.insert(cdj.size() - 1, ",\"extra\":1");  // same type, challenge and origin; other bytes
        response["clientDataJSON"] = encode_base64url(cdj);
        (void)rp;
      });
      ADD_FAILURE() << file << " accepted with other client data";
    } catch (const WebAuthnError& e) {
      EXPECT_EQ(e.code(), "webauthn_attestation_invalid") << file << ": " << e.what();
    }
  }
}

// Trust anchors: R13's chain validates to its own root at a time inside
// the certificates' lives, and not against another root or after expiry.
TEST(WebAuthnVectors, TrustAnchorsAreCheckedByPathValidation) {
  const boost::json::object vector = load(kVectors / "R13-reg-android-key-pixel-8a.json");
  const std::string object = b64(vector.at("credential").at("response").at("attestationObject"));
  const CborItem map = load_cbor_exact(object);
  const cbor_item_t* x5c = map_member(map_member(map.get(), "attStmt", "x"), "x5c", "x");
  ASSERT_NE(x5c, nullptr);
  const std::string root_der = *bytes_of(cbor_array_handle(x5c)[cbor_array_size(x5c) - 1]);
  const std::string leaf_der = *bytes_of(cbor_array_handle(x5c)[0]);
  const auto pem = [](const std::string& der) {
    return Botan::PEM_Code::encode(reinterpret_cast<const uint8_t*>(der.data()), der.size(), "CERTIFICATE");
  };
  const auto in_life = std::chrono::system_clock::from_time_t(1736899200);  // 2025-01-15
  const auto with = [&](std::vector<std::string> anchors, std::chrono::system_clock::time_point at) {
    return [anchors, at](RelyingParty& rp, boost::json::object&) {
      rp.attestation = "direct";
      rp.trust_anchors_pem = anchors;
      rp.attestation_time = at;
    };
  };
  EXPECT_EQ(register_vector("R13-reg-android-key-pixel-8a.json", with({pem(root_der)}, in_life)).attestation_type,
            "basic");
  for (const auto& change : {with({pem(root_der)}, std::chrono::system_clock::from_time_t(1767225600)),  // 2026: expired
                             with({pem(leaf_der)}, std::chrono::system_clock::from_time_t(1)),
                             with({}, in_life)}) {
    try {
      register_vector("R13-reg-android-key-pixel-8a.json", change);
      ADD_FAILURE() << "an untrusted chain was accepted";
    } catch (const WebAuthnError& e) {
      EXPECT_EQ(e.code(), "webauthn_attestation_untrusted") << e.what();
    }
  }
}

TEST(WebAuthnParsers, MalformedAuthenticatorDataIsRefused) {
  const std::string header(37, '\0');
  EXPECT_NO_THROW(parse_authenticator_data(std::string(32, 'h') + std::string("\x01\0\0\0\x01", 5)));
  EXPECT_THROW(parse_authenticator_data(header.substr(0, 36)), WebAuthnError);
  EXPECT_THROW(parse_authenticator_data(header + "x"), WebAuthnError);  // trailing byte
  std::string at = std::string(32, 'h') + std::string("\x41\0\0\0\0", 5) + std::string(16, 'a');
  EXPECT_THROW(parse_authenticator_data(at + std::string("\x00\x00", 2)), WebAuthnError);       // empty id
  EXPECT_THROW(parse_authenticator_data(at + std::string("\x04\x00", 2) + "id"), WebAuthnError);  // id too long
  EXPECT_THROW(parse_authenticator_data(at + std::string("\x00\x02", 2) + "id" + "\xbf\xff"), WebAuthnError);  // indefinite map
  std::string bs_without_be = std::string(32, 'h') + std::string("\x11\0\0\0\0", 5);
  EXPECT_THROW(parse_authenticator_data(bs_without_be), WebAuthnError);
}

TEST(WebAuthnParsers, CoseKeysOutsideTheOfferedAlgorithmsAreRefused) {
  // {1: 2, 3: -35, -1: 2, ...}: ES384 is not offered.
  EXPECT_THROW(parse_cose_key(std::string("\xa3\x01\x02\x03\x38\x22\x20\x02", 8)), WebAuthnError);
  // A map repeating key 3.
  EXPECT_THROW(parse_cose_key(std::string("\xa3\x01\x02\x03\x26\x03\x26", 7)), WebAuthnError);
  EXPECT_THROW(parse_cose_key(""), WebAuthnError);
  EXPECT_THROW(parse_cose_key("\xff"), WebAuthnError);
}

// libcbor is handed only complete, tag-free items with plausible counts
// (it would allocate for a claimed count, and 0.8 leaks on half-loaded
// maps and on tags: fuzz_webauthn found both).
TEST(WebAuthnParsers, CborIsCheckedBeforeLibcborLoadsIt) {
  EXPECT_EQ(load_cbor_exact(std::string("\xbb\x00\x00\x00\x10\x00\x00\x00\x00", 9)), nullptr);  // 2^36 pairs
  EXPECT_EQ(load_cbor_exact(std::string("\x9a\x7f\xff\xff\xff", 5)), nullptr);                    // 2^31 items
  EXPECT_EQ(load_cbor_exact(std::string("\xa2\x01\x02\x03", 4)), nullptr);                         // a pair short
  EXPECT_EQ(load_cbor_exact(std::string("\xc3\x41\x01", 3)), nullptr);                               // a tag
  EXPECT_EQ(load_cbor_exact(std::string("\x9f\x01\xff", 3)), nullptr);                               // indefinite
  EXPECT_EQ(load_cbor_exact(std::string("\xa1\x01\x02\x00", 4)), nullptr);                         // trailing byte
  const CborItem ok = load_cbor_exact(std::string("\xa2\x01\x82\x01\xa0\x03\x40", 7));  // {1: [1, {}], 3: h''}
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(cbor_map_size(ok.get()), 2u);
}

TEST(WebAuthnParsers, ResponsesWithBadMembersAreRefused) {
  const boost::json::object good = load(kVectors / "A01-auth-es256-localhost.json").at("credential").as_object();
  EXPECT_NO_THROW(read_assertion_response(good));
  boost::json::object bad = good;
  bad["rawId"] = "not base64!";
  EXPECT_THROW(read_assertion_response(bad), WebAuthnError);
  bad = good;
  bad["id"] = "AAAA";
  EXPECT_THROW(read_assertion_response(bad), WebAuthnError);  // id and rawId differ
  bad = good;
  bad["response"].as_object()["clientDataJSON"] = encode_base64url("{\"type\":1}");
  EXPECT_THROW(read_assertion_response(bad), WebAuthnError);
  bad = good;
  bad["response"].as_object()["clientDataJSON"] = encode_base64url("\xff\xfe{}");
  EXPECT_THROW(read_assertion_response(bad), WebAuthnError);
  bad = good;
  bad["response"].as_object().erase("signature");
  EXPECT_THROW(read_assertion_response(bad), WebAuthnError);
}

}  // namespace
}  // namespace orbitnest::authd::webauthn
