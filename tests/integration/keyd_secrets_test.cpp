// Sealing, the pepper MAC and TOTP through the real keyd: round trips, the
// purpose/AAD binding, tampering, live codes at keyd's own clock, replays.
// (RFC 6238's vectors are checked on totp_match itself, in the unit tests.)
#include <gtest/gtest.h>

#include <botan/base32.h>
#include <botan/otp.h>

#include <cstdio>
#include "tests/support/keyd_session.h"

namespace orbitnest::test {
namespace {

using keyd::Op;
using keyd::Status;

std::string bad_request(keyd::KeydConnection& conn, Op op, std::vector<std::string> fields) {
  try {
    conn.call(op, std::move(fields));
  } catch (const keyd::KeydError& e) {
    EXPECT_EQ(e.status(), Status::bad_request) << e.what();
    return e.what();
  }
  return "";
}

TEST(KeydSecrets, SealRoundTripBindsPurposeAndAad) {
  Appliance a(false);
  auto keyd = a.start_keyd();
  keyd::KeydConnection conn = connect_when_ready(a);
  const std::string secret = "smtp-password-" + random_hex(8);
  record_secret(secret);
  const std::string blob(conn.call(Op::seal, {"smtp", "project:demo", secret}).fields.at(0));
  EXPECT_EQ(blob.find(secret), std::string::npos);
  EXPECT_EQ(conn.call(Op::unseal, {"smtp", "project:demo", blob}).fields.at(0), secret);
  const std::string blob2(conn.call(Op::seal, {"smtp", "project:demo", secret}).fields.at(0));
  EXPECT_NE(blob, blob2) << "a fresh IV per seal";

  EXPECT_NE(bad_request(conn, Op::unseal, {"smtp", "project:other", blob}).find("does not open"), std::string::npos);
  EXPECT_NE(bad_request(conn, Op::unseal, {"sms", "project:demo", blob}).find("does not open"), std::string::npos);
  std::string tampered = blob;
  tampered[tampered.size() - 1] ^= 1;
  EXPECT_NE(bad_request(conn, Op::unseal, {"smtp", "project:demo", tampered}).find("does not open"), std::string::npos);
  tampered = blob;
  tampered[4] = 9;  // key version 9 does not exist
  EXPECT_NE(bad_request(conn, Op::unseal, {"smtp", "project:demo", tampered}).find("key version"), std::string::npos);
  EXPECT_NE(bad_request(conn, Op::unseal, {"smtp", "project:demo", "short"}).find("not a sealed blob"),
            std::string::npos);
  EXPECT_NE(bad_request(conn, Op::seal, {"Bad Purpose", "", "x"}).find("purpose"), std::string::npos);
  EXPECT_EQ(conn.call(Op::status, {}).status, Status::ok);
}

TEST(KeydSecrets, PepperMacIsStableVersionedAndPurposeBound) {
  Appliance a(false);
  auto keyd = a.start_keyd();
  keyd::KeydConnection conn = connect_when_ready(a);
  const keyd::Frame m1 = conn.call(Op::mac, {"password", "hunter2", keyd::encode_u32(0)});
  const keyd::Frame m2 = conn.call(Op::mac, {"password", "hunter2", keyd::encode_u32(1)});
  const keyd::Frame other = conn.call(Op::mac, {"otp", "hunter2", keyd::encode_u32(0)});
  EXPECT_EQ(m1.fields.at(0), keyd::encode_u32(1));
  EXPECT_EQ(m1.fields.at(1).size(), 32u);
  EXPECT_EQ(m1.fields.at(1), m2.fields.at(1));
  EXPECT_NE(m1.fields.at(1), other.fields.at(1));
  EXPECT_NE(bad_request(conn, Op::mac, {"password", "x", keyd::encode_u32(7)}).find("no pepper version 7"),
            std::string::npos);
}

// The code an authenticator app shows now for `seed`, computed with
// Botan's own RFC 6238 TOTP (not keyd's code), and its time step.
std::pair<std::string, std::uint64_t> app_code(const std::string& seed) {
  Botan::TOTP totp(reinterpret_cast<const std::uint8_t*>(seed.data()), seed.size(), "SHA-1", 6, 30);
  const std::uint64_t now = static_cast<std::uint64_t>(unix_now());
  char code[8];
  std::snprintf(code, sizeof(code), "%06u", static_cast<unsigned>(totp.generate_totp(now)));
  return {code, now / 30};
}

TEST(KeydSecrets, TotpVerifiesAtKeydsOwnClockAndRefusesReplays) {
  Appliance a(false);
  auto keyd = a.start_keyd();
  keyd::KeydConnection conn = connect_when_ready(a);
  // A seed cannot be handed in (a peer sealing a seed it knows could mint
  // factors whose codes it knows): keyd makes it, and shows it once.
  EXPECT_NE(bad_request(conn, Op::seal, {"totp", "user:1", "12345678901234567890"}).find("totp_enroll"),
            std::string::npos);
  const keyd::Frame enrolled = conn.call(Op::totp_enroll, {"user:1", "OrbitNest", "jane@example.com"});
  const std::string uri(enrolled.fields.at(0));
  const std::string blob(enrolled.fields.at(1));
  const std::size_t at = uri.find("secret=") + 7;
  const Botan::secure_vector<std::uint8_t> seed_bytes = Botan::base32_decode(uri.substr(at, uri.find('&', at) - at));
  const std::string seed(seed_bytes.begin(), seed_bytes.end());
  const auto [code, step] = app_code(seed);
  const keyd::Frame r = conn.call(Op::totp_verify, {blob, "user:1", code, keyd::encode_u64(0)});
  ASSERT_EQ(r.fields.at(0), keyd::encode_u8(1)) << "the code of now";
  const std::string matched(r.fields.at(1));
  // keyd's step is its own clock's: at most one off ours at a boundary.
  bool near = false;
  for (const std::uint64_t s : {step - 1, step, step + 1}) {
    near = near || matched == keyd::encode_u64(s);
  }
  EXPECT_TRUE(near);
  // The same step again is a replay.
  const keyd::Frame replay = conn.call(Op::totp_verify, {blob, "user:1", code, std::string(matched)});
  EXPECT_EQ(replay.fields.at(0), keyd::encode_u8(0));
  // RFC 6238's code for t = 59 was right in 1970, not now.
  const keyd::Frame old = conn.call(Op::totp_verify, {blob, "user:1", "287082", keyd::encode_u64(0)});
  EXPECT_EQ(old.fields.at(0), keyd::encode_u8(0));
  // The peer cannot send a time any more: the old five-field request is refused.
  EXPECT_NE(bad_request(conn, Op::totp_verify, {blob, "user:1", "287082", keyd::encode_u64(59), keyd::encode_u64(0)})
                .find("trailing"),
            std::string::npos);
  // Another user's AAD cannot use this seed; a TOTP seed never comes out.
  EXPECT_NE(bad_request(conn, Op::totp_verify, {blob, "user:2", code, keyd::encode_u64(0)}).find("does not open"),
            std::string::npos);
  EXPECT_NE(bad_request(conn, Op::unseal, {"totp", "user:1", blob}).find("never unsealed"), std::string::npos);
}

TEST(KeydSecrets, TotpEnrollmentGivesAUriWhoseCodesVerify) {
  Appliance a(false);
  auto keyd = a.start_keyd();
  keyd::KeydConnection conn = connect_when_ready(a);
  const keyd::Frame e = conn.call(Op::totp_enroll, {"user:1", "OrbitNest", "jane@example.com"});
  const std::string uri(e.fields.at(0));
  const std::string blob(e.fields.at(1));
  ASSERT_EQ(uri.rfind("otpauth://totp/OrbitNest:jane@example.com?secret=", 0), 0u) << uri;
  const std::size_t s = uri.find("secret=") + 7;
  const std::string secret_b32 = uri.substr(s, uri.find('&', s) - s);
  record_secret(secret_b32);
  EXPECT_EQ(secret_b32.size(), 32u) << "160-bit seed";
  const Botan::secure_vector<std::uint8_t> seed = Botan::base32_decode(secret_b32);
  const auto [code, step] = app_code(std::string(seed.begin(), seed.end()));
  const keyd::Frame ok = conn.call(Op::totp_verify, {blob, "user:1", code, keyd::encode_u64(0)});
  EXPECT_EQ(ok.fields.at(0), keyd::encode_u8(1));
  const keyd::Frame replay = conn.call(Op::totp_verify, {blob, "user:1", code, std::string(ok.fields.at(1))});
  EXPECT_EQ(replay.fields.at(0), keyd::encode_u8(0));
}

}  // namespace
}  // namespace orbitnest::test
