// A real PKCS#11 failure under keyd: keyd's module is the fault shim
// (tests/support/pkcs11_fault_shim.cpp) in front of SoftHSM2, which
// answers CKR_DEVICE_ERROR to every signature and encryption while a
// trigger file exists. Signing then fails with hsm_error (keyd stays up),
// the failure of the audited op is in the audit log with its reason, a
// rotation is refused before any key moves, and once the fault is gone
// everything works again on the same connection and the chain verifies.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <functional>

#include "keyd/client/keyd_client.h"
#include "tests/support/audit_records.h"
#include "tests/support/hsm_fault.h"
#include "tests/support/jws_check.h"
#include "tests/support/keyd_session.h"

namespace orbitnest::test {
namespace {

using keyd::Status;

std::vector<std::string> kids(keyd::KeydClient& keyd, const std::string& keyring, const char* state) {
  std::vector<std::string> out;
  const boost::json::value keys = boost::json::parse(keyd.list_keys(keyring));
  for (const boost::json::value& k : keys.as_array()) {
    if (k.at("state").as_string() == state) {
      out.emplace_back(k.at("kid").as_string());
    }
  }
  return out;
}

// The status and message of the KeydError `call` throws ("ok" if none).
template <typename F>
std::pair<Status, std::string> failure_of(F call) {
  try {
    call();
  } catch (const keyd::KeydError& e) {
    return {e.status(), e.what()};
  }
  return {Status::ok, "ok"};
}

std::string admin_token(keyd::KeydClient& keyd) {
  const std::int64_t now = unix_now();
  return keyd.sign_jwt("admin", R"({"iss":"https://localhost/admin","sub":"ops-1","aud":"orbitnest-admin",)"
                                R"("role":"admin","iat":)" + std::to_string(now) + R"(,"exp":)" +
                                    std::to_string(now + 300) + "}");
}

TEST(KeydHsmFault, SigningFailsCleanlyIsAuditedAndRecovers) {
  Appliance a(false);
  const HsmFault fault(a);
  auto keyd_process = fault.start_keyd();
  keyd::KeydConnection conn = connect_when_ready(a);
  keyd::KeydClient keyd(conn);
  keyd.ensure_keyring("demo");
  EXPECT_EQ(botan_verify_jws(keyd.sign_jwt("project:demo", project_claims("demo")), keyd.jwks("project:demo")), "");
  const std::string token = admin_token(keyd);  // for the admin rotation below
  const std::vector<std::string> current_before = kids(keyd, "project:demo", "current");
  const std::size_t keys_before = boost::json::parse(keyd.list_keys("project:demo")).as_array().size();

  fault.fail();
  const auto [sign_status, sign_message] =
      failure_of([&] { keyd.sign_jwt("project:demo", project_claims("demo")); });
  EXPECT_EQ(sign_status, Status::hsm_error) << sign_message;
  EXPECT_NE(sign_message.find("CKR_DEVICE_ERROR"), std::string::npos) << sign_message;
  // Not audited, but failing the same way: sealing (C_Encrypt).
  EXPECT_EQ(failure_of([&] { keyd.seal("smtp", "aad", "secret"); }).first, Status::hsm_error);
  // A rotation, by an operator and by an admin through authd, is refused
  // before any key moves: its first step is a signed audit checkpoint.
  for (const auto& rotate : {std::function<void()>([&] { keyd.rotate("project:demo", true); }),
                             std::function<void()>([&] { keyd.rotate_by_admin(token, "project:demo"); })}) {
    const auto [status, message] = failure_of(rotate);
    EXPECT_EQ(status, Status::internal) << message;
    EXPECT_NE(message.find("audit log cannot be written"), std::string::npos) << message;
  }
  EXPECT_TRUE(keyd_process->running());

  fault.heal();
  // The same connection, the same keys: nothing moved.
  EXPECT_EQ(kids(keyd, "project:demo", "current"), current_before);
  EXPECT_EQ(boost::json::parse(keyd.list_keys("project:demo")).as_array().size(), keys_before);
  EXPECT_EQ(botan_verify_jws(keyd.sign_jwt("project:demo", project_claims("demo")), keyd.jwks("project:demo")), "");
  EXPECT_EQ(keyd.unseal("smtp", "aad", keyd.seal("smtp", "aad", "secret")), "secret");
  keyd.rotate("project:demo", true);
  EXPECT_EQ(kids(keyd, "project:demo", "current").size(), 1u);
  EXPECT_NE(kids(keyd, "project:demo", "current"), current_before);

  // Each audited failure is recorded with the HSM's reason; the
  // unaudited one (seal) is not.
  const auto signing = audit_records(a, "op_failed", "sign_jwt");
  ASSERT_EQ(signing.size(), 1u);
  EXPECT_EQ(text_of(signing[0], "result"), "hsm_error: C_SignInit failed: CKR_DEVICE_ERROR");
  for (const char* op : {"rotate", "rotate_by_admin"}) {
    const auto rotation = audit_records(a, "op_failed", op);
    ASSERT_EQ(rotation.size(), 1u) << op;
    EXPECT_NE(text_of(rotation[0], "result").find("internal: cannot sign an audit checkpoint: C_Sign"),
              std::string::npos)
        << text_of(rotation[0], "result");
    EXPECT_NE(text_of(rotation[0], "result").find("CKR_DEVICE_ERROR"), std::string::npos) << op;
  }
  EXPECT_TRUE(audit_records(a, "op_failed", "seal").empty());

  // The chain verifies, signatures and all, up to keyd's live head.
  const auto [code, out] = run_command({ORBITNEST_KEYDCTL_BIN, "--socket", a.keyd_socket(), "audit", "verify",
                                        "--file", a.dir.file("audit.log")});
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(keyd_process->stop(), 0);
}

}  // namespace
}  // namespace orbitnest::test
