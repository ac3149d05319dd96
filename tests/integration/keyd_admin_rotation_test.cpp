// rotate_by_admin against a real keyd: authd relays an admin's access
// token and keyd verifies it itself. A valid, short-lived admin token
// rotates (with rotate's own code) and the audit record names the admin;
// a project user's token, an expired, long-lived, tampered, alg-none or
// alg-swapped one is refused and audited; only authd's uid may ask, and
// authd's uid still may not use the operator's rotate.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <thread>

#include "keyd/client/keyd_client.h"
#include "keyd/keyring/base64url.h"
#include "tests/support/as_user.h"
#include "tests/support/audit_records.h"
#include "tests/support/jws_check.h"
#include "tests/support/keyd_session.h"

namespace orbitnest::test {
namespace {

using keyd::Status;
using namespace std::chrono_literals;

std::string admin_claims(std::int64_t iat, std::int64_t exp, const std::string& extra = "") {
  return R"({"iss":"https://localhost/admin","sub":"ops-7","aud":"orbitnest-admin","role":"admin","iat":)" +
         std::to_string(iat) + R"(,"exp":)" + std::to_string(exp) + extra + "}";
}

// The kid of the key of `keyring` in `state` ("current", "next").
std::string kid_in(keyd::KeydClient& keyd, const std::string& keyring, const char* state) {
  const boost::json::value keys = boost::json::parse(keyd.list_keys(keyring));
  for (const boost::json::value& k : keys.as_array()) {
    if (k.at("state").as_string() == state) {
      return std::string(k.at("kid").as_string());
    }
  }
  return "";
}
std::string current_kid(keyd::KeydClient& keyd, const std::string& keyring) { return kid_in(keyd, keyring, "current"); }
std::string next_kid(keyd::KeydClient& keyd, const std::string& keyring) { return kid_in(keyd, keyring, "next"); }

// A compact JWS with its header or payload replaced; the signature kept.
std::string with_header(const std::string& jws, const std::string& header_json) {
  return keyd::base64url_encode(header_json) + jws.substr(jws.find('.'));
}
std::string with_payload(const std::string& jws, const std::string& payload_json) {
  const std::size_t a = jws.find('.');
  const std::size_t b = jws.find('.', a + 1);
  return jws.substr(0, a + 1) + keyd::base64url_encode(payload_json) + jws.substr(b);
}

TEST(KeydAdminRotation, AValidAdminTokenRotatesInTheAdminsName) {
  Appliance a(false);
  auto keyd_process = a.start_keyd();  // the test's uid is authd's (and, as root, an operator)
  keyd::KeydConnection conn = connect_when_ready(a);
  keyd::KeydClient keyd(conn);
  keyd.ensure_keyring("demo");
  const std::string before = current_kid(keyd, "project:demo");
  const std::string promoted = next_kid(keyd, "project:demo");
  const std::int64_t now = unix_now();
  const std::string token = keyd.sign_jwt("admin", admin_claims(now, now + 300, R"(,"session_id":"sess-42")"));

  const keyd::RotateByAdminAnswer answer = keyd.rotate_by_admin(token, "project:demo");
  EXPECT_EQ(answer.actor, "admin:ops-7");
  EXPECT_EQ(boost::json::parse(answer.keys).as_array().size(), 3u);  // promoted, new, demoted
  EXPECT_EQ(current_kid(keyd, "project:demo"), promoted);
  EXPECT_NE(current_kid(keyd, "project:demo"), before);
  EXPECT_EQ(botan_verify_jws(keyd.sign_jwt("project:demo", project_claims("demo")), keyd.jwks("project:demo")), "");

  // The admin keyring itself, with the same token.
  const std::string admin_before = current_kid(keyd, "admin");
  keyd.rotate_by_admin(token, "admin");
  EXPECT_NE(current_kid(keyd, "admin"), admin_before);

  const auto requested = audit_records(a, "rotate_requested", "rotate_by_admin");
  ASSERT_EQ(requested.size(), 2u);
  const boost::json::object& r = requested[0];
  EXPECT_EQ(text_of(r, "keyring"), "project:demo");
  EXPECT_EQ(r.at("detail").at("actor").as_string(), "admin:ops-7");
  EXPECT_EQ(r.at("detail").at("session_id").as_string(), "sess-42");
  EXPECT_EQ(r.at("detail").at("force").as_bool(), false);
  EXPECT_EQ(r.at("peer").at("uid").to_number<std::int64_t>(), static_cast<std::int64_t>(::getuid()));
  const auto [code, out] = run_command({ORBITNEST_KEYDCTL_BIN, "--socket", a.keyd_socket(), "audit", "verify",
                                        "--file", a.dir.file("audit.log")});
  EXPECT_EQ(code, 0) << out;
}

TEST(KeydAdminRotation, RefusesEveryTokenButAShortLivedAdminOne) {
  Appliance a(false);
  auto keyd_process = a.start_keyd();
  keyd::KeydConnection conn = connect_when_ready(a);
  keyd::KeydClient keyd(conn);
  keyd.ensure_keyring("demo");
  const std::string before = current_kid(keyd, "project:demo");
  std::int64_t now = unix_now();
  // Signed now, expired in two seconds (keyd signs nothing already expired).
  const std::string expiring = keyd.sign_jwt("admin", admin_claims(now - 30, now + 2));
  const std::string valid = keyd.sign_jwt("admin", admin_claims(now, now + 300));
  const std::string admin_kid(boost::json::parse(split_jws(valid).header_json).at("kid").as_string());

  int refusals = 0;
  const auto refused = [&](const std::string& token, const std::string& why) {
    ++refusals;
    try {
      keyd.rotate_by_admin(token, "project:demo");
      ADD_FAILURE() << "rotated with a token that should be refused: " << why;
    } catch (const keyd::KeydError& e) {
      EXPECT_EQ(e.status(), Status::bad_request) << e.what();
      EXPECT_NE(std::string(e.what()).find("admin token refused: " + why), std::string::npos) << e.what();
    }
  };
  // A project user's token: signed by a project keyring, its issuer, its role.
  refused(keyd.sign_jwt("project:demo", project_claims("demo")), "kid is not a published key of the admin keyring");
  // An admin token, but not short-lived (keyd signs admin tokens of up to an hour).
  refused(keyd.sign_jwt("admin", admin_claims(now, now + 901)), "lifetime (exp - iat) must be at most 900 s");
  // Tampered: the payload changed, the signature kept.
  const std::string payload = split_jws(valid).payload_json;
  std::string promoted = payload;
  promoted.replace(promoted.find("ops-7"), 5, "ops-8");
  refused(with_payload(valid, promoted), "signature does not verify");
  // The payload of a project user under an admin signature: still the signature.
  refused(with_payload(valid, project_claims("demo")), "signature does not verify");
  // alg none (no signature), and an algorithm the key is not.
  std::string unsigned_token = with_header(valid, R"({"alg":"none","kid":")" + admin_kid + R"(","typ":"JWT"})");
  unsigned_token.erase(unsigned_token.find_last_of('.') + 1);
  refused(unsigned_token, "alg 'none' is not accepted");
  refused(with_header(valid, R"({"alg":"HS256","kid":")" + admin_kid + R"(","typ":"JWT"})"), "alg 'HS256' is not accepted");
  refused(with_header(valid, R"({"alg":"RS256","kid":")" + admin_kid + R"(","typ":"JWT"})"),
          "alg RS256 does not match the key's ES256");
  refused("not-a-token", "not a compact JWS");
  // Expired, at keyd's clock.
  while (unix_now() <= now + 2) {
    std::this_thread::sleep_for(100ms);
  }
  refused(expiring, "token has expired");
  EXPECT_EQ(current_kid(keyd, "project:demo"), before) << "a refused token rotated the keyring";

  // Every refusal is an op_failed record naming the reason; nothing was rotated.
  const auto failed = audit_records(a, "op_failed", "rotate_by_admin");
  ASSERT_EQ(static_cast<int>(failed.size()), refusals);
  for (const boost::json::object& r : failed) {
    EXPECT_EQ(text_of(r, "result").rfind("bad_request: admin token refused: ", 0), 0u) << text_of(r, "result");
  }
  EXPECT_TRUE(audit_records(a, "rotate_requested", "rotate_by_admin").empty());
  // A valid token still rotates.
  now = unix_now();
  keyd.rotate_by_admin(keyd.sign_jwt("admin", admin_claims(now, now + 900)), "project:demo");
  EXPECT_NE(current_kid(keyd, "project:demo"), before);
}

TEST(KeydAdminRotation, OnlyAuthdMayAskAndAuthdStillMayNotUseRotate) {
  Appliance a(false);
  KeydOptions o;
  o.socket_mode = "0666";
  o.authd_user = "nobody";  // authd is nobody; root is an operator only
  auto keyd_process = a.start_keyd({}, a.write_config("keyd.yaml", a.keyd_yaml(o)));
  connect_when_ready(a);
  const int code = as_user(kNobody, [&] {
    keyd::KeydConnection conn(a.keyd_socket(), 3000ms);
    keyd::KeydClient keyd(conn);
    const std::int64_t now = unix_now();
    const std::string token = keyd.sign_jwt("admin", admin_claims(now, now + 300));
    if (keyd.rotate_by_admin(token, "admin").actor != "admin:ops-7") {
      return 1;
    }
    try {
      keyd.rotate("admin", true);
      return 2;
    } catch (const keyd::KeydError& e) {
      return e.status() == Status::forbidden ? 0 : 3;
    }
  });
  EXPECT_EQ(code, 0) << "authd's uid: rotate_by_admin allowed, rotate forbidden";
  EXPECT_EQ(audit_records(a, "rotate_requested", "rotate_by_admin").size(), 1u);
  EXPECT_EQ(audit_records(a, "op_refused", "rotate").size(), 1u);

  // An operator (keydctl's peer class) may not ask for an admin's rotation.
  keyd::KeydConnection root(a.keyd_socket(), 3000ms);
  keyd::KeydClient keyd(root);
  try {
    keyd.rotate_by_admin("x.y.z", "admin");
    ADD_FAILURE() << "an operator was allowed rotate_by_admin";
  } catch (const keyd::KeydError& e) {
    EXPECT_EQ(e.status(), Status::forbidden) << e.what();
  }
  EXPECT_EQ(audit_records(a, "op_refused", "rotate_by_admin").size(), 1u);
  EXPECT_TRUE(keyd_process->running());
}

}  // namespace
}  // namespace orbitnest::test
