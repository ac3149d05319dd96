// The typed client against a real keyd: every operation's request struct
// reaches its handler and its answer struct decodes, over one connection
// and over the pool authd uses.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "keyd/client/keyd_client.h"
#include "keyd/client/keyd_connection_pool.h"
#include "tests/support/jws_check.h"
#include "tests/support/keyd_session.h"

namespace orbitnest::test {
namespace {

TEST(KeydClient, EveryOperationRoundTripsThroughItsTypes) {
  Appliance a(false);
  auto keyd_process = a.start_keyd();
  keyd::KeydConnection conn = connect_when_ready(a);
  keyd::KeydClient keyd(conn);

  const keyd::KeydStatus st = keyd.status();
  EXPECT_TRUE(st.ready);
  EXPECT_EQ(st.detail, "ok");
  EXPECT_EQ(st.token_label, a.token.label());

  const keyd::EnsureKeyringAnswer ring = keyd.ensure_keyring("demo");
  EXPECT_EQ(ring.keyring, "project:demo");
  EXPECT_EQ(ring.issuer, "https://localhost/projects/demo/auth/v1");

  const std::string jws = keyd.sign_jwt("project:demo", project_claims("demo"));
  const std::string jwks = keyd.jwks("project:demo");
  EXPECT_EQ(botan_verify_jws(jws, jwks), "") << jws;

  const std::string blob = keyd.seal("smtp", "project:demo", "hunter2");
  EXPECT_EQ(keyd.unseal("smtp", "project:demo", blob), "hunter2");
  EXPECT_THROW(keyd.unseal("smtp", "project:other", blob), keyd::KeydError);

  const keyd::MacAnswer m = keyd.mac("password", "correct horse", 0);
  EXPECT_EQ(m.version, 1u);
  EXPECT_EQ(m.mac.size(), 32u);
  EXPECT_EQ(keyd.mac("password", "correct horse", m.version).mac, m.mac);

  const keyd::TotpEnrollAnswer enrolled = keyd.totp_enroll("user:1", "OrbitNest", "user@example.com");
  EXPECT_EQ(enrolled.otpauth_uri.rfind("otpauth://totp/", 0), 0u) << enrolled.otpauth_uri;
  const keyd::TotpVerifyAnswer wrong = keyd.totp_verify(enrolled.sealed_seed, "user:1", "000000x", 0);
  EXPECT_FALSE(wrong.ok);

  const boost::json::value before = boost::json::parse(keyd.list_keys("project:demo"));
  const boost::json::value after = boost::json::parse(keyd.rotate("project:demo", true));
  EXPECT_EQ(after.as_array().size(), before.as_array().size() + 1);

  const keyd::AuditHeadAnswer head = keyd.audit_head();
  EXPECT_GT(head.seq, 0u);
  EXPECT_EQ(head.hash.size(), 64u);
  EXPECT_NE(keyd.audit_pubkey().find("BEGIN PUBLIC KEY"), std::string::npos);
}

TEST(KeydClient, WorksOverThePoolAuthdUses) {
  Appliance a(false);
  auto keyd_process = a.start_keyd();
  connect_when_ready(a);
  keyd::KeydConnectionPool pool(a.keyd_socket(), std::chrono::milliseconds(5000), 2);
  keyd::KeydClient keyd(pool);
  const keyd::EnsureKeyringAnswer ring = keyd.ensure_keyring("pooled");
  EXPECT_EQ(botan_verify_jws(keyd.sign_jwt(ring.keyring, project_claims("pooled")), keyd.jwks(ring.keyring)), "");
}

}  // namespace
}  // namespace orbitnest::test
