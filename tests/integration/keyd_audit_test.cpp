// The audit log as an auditor sees it: keydctl audit verify on an untouched
// log, and on one with a flipped byte, a deleted record, a truncation, its
// checkpoints dropped, its chain rehashed; the checkpoints verify with the
// exported key; keyd refuses to continue a log that does not verify;
// administrative operations are refused when their record cannot be
// written.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <signal.h>

#include <functional>

#include "keyd/audit/audit_record.h"
#include "keyd/keyring/keyring_state.h"
#include "tests/support/keyd_session.h"

namespace orbitnest::test {
namespace {

using keyd::Op;
using namespace std::chrono_literals;

std::pair<int, std::string> keydctl(const Appliance& a, std::vector<std::string> args) {
  std::vector<std::string> argv = {ORBITNEST_KEYDCTL_BIN, "--socket", a.keyd_socket()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    out.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) {
    out += l + "\n";
  }
  return out;
}

bool is_checkpoint(const std::string& line) { return line.find("\"event\":\"checkpoint\"") != std::string::npos; }

// What an attacker without the HSM key can do after an edit: renumber and
// recompute every prev, so that the hash chain is whole again.
std::string rehash(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  std::string prev(keyd::kGenesisHash);
  for (const std::string& l : lines) {
    boost::json::object r = boost::json::parse(l).as_object();
    r["seq"] = out.size() + 1;
    r["prev"] = prev;
    out.push_back(boost::json::serialize(r));
    prev = keyd::sha256_hex(out.back());
  }
  return join(out);
}

std::vector<std::string> without_checkpoints(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  for (const std::string& l : lines) {
    if (!is_checkpoint(l)) {
      out.push_back(l);
    }
  }
  return out;
}

class KeydAudit : public ::testing::Test {
 protected:
  void SetUp() override {
    KeydOptions o;
    o.checkpoint_every = 3;
    keyd = a.start_keyd({}, a.write_config("keyd.yaml", a.keyd_yaml(o)));
    keyd::KeydConnection conn = connect_when_ready(a);
    conn.call(Op::ensure_keyring, {"demo"});
    conn.call(Op::rotate, {"project:demo", keyd::encode_u8(0)});
    conn.call(Op::sign_jwt, {"project:demo", project_claims("demo")});
    const auto [code, pem] = keydctl(a, {"audit", "pubkey"});
    ASSERT_EQ(code, 0) << pem;
    write_file(a.dir.file("audit.pem"), pem);
    log = read_file(a.dir.file("audit.log"));
  }
  // Verifies a copy of the log offline (keyd's head not consulted).
  std::pair<int, std::string> verify_copy(const std::string& text) {
    write_file(a.dir.file("copy.log"), text);
    return run_command({ORBITNEST_KEYDCTL_BIN, "--socket", "/nonexistent", "audit", "verify", "--file",
                        a.dir.file("copy.log"), "--pubkey", a.dir.file("audit.pem")});
  }
  // Stops keyd cleanly, lets `tamper` rewrite the log, starts keyd again:
  // returns its exit code (nullopt if it kept running) and its log.
  std::pair<std::optional<int>, std::string> restart_after(const std::function<std::string(std::string)>& tamper) {
    EXPECT_EQ(keyd->stop(), 0);
    write_file(a.dir.file("audit.log"), tamper(read_file(a.dir.file("audit.log"))), 0600);
    keyd = a.start_keyd({}, a.dir.file("keyd.yaml"));
    const std::optional<int> code = keyd->wait_exit(std::chrono::seconds(20));
    return {code, read_file(keyd->log_file())};
  }
  Appliance a{false};
  std::unique_ptr<ChildProcess> keyd;
  std::string log;
};

TEST_F(KeydAudit, UntouchedLogVerifiesWithSignedCheckpoints) {
  const auto [code, out] = verify_copy(log);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("chain whole"), std::string::npos) << out;
  EXPECT_NE(out.find("signed and verified"), std::string::npos) << out;
  // The live log, checked against keyd's own head.
  const auto [live_code, live] = keydctl(a, {"audit", "verify", "--file", a.dir.file("audit.log")});
  EXPECT_EQ(live_code, 0) << live;
  EXPECT_NE(live.find("ends where keyd's head is"), std::string::npos) << live;
  // The records an auditor expects are there.
  for (const char* event : {"config_loaded", "token_login", "keyring_created", "key_generated", "rotate_requested",
                            "key_promoted", "key_demoted", "checkpoint"}) {
    EXPECT_NE(log.find(std::string("\"event\":\"") + event + "\""), std::string::npos) << event;
  }
}

TEST_F(KeydAudit, FlippedByteIsNamed) {
  std::vector<std::string> lines = lines_of(log);
  ASSERT_GT(lines.size(), 6u);
  std::string changed = log;
  const std::size_t at = log.find("\"kid\":\"") + 8;  // inside the first kid
  changed[at] = changed[at] == 'A' ? 'B' : 'A';
  const auto [code, out] = verify_copy(changed);
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("BROKEN at record"), std::string::npos) << out;
}

TEST_F(KeydAudit, DeletedRecordIsNamed) {
  std::vector<std::string> lines = lines_of(log);
  lines.erase(lines.begin() + 3);
  std::string text;
  for (const std::string& l : lines) {
    text += l + "\n";
  }
  const auto [code, out] = verify_copy(text);
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("BROKEN at record 4"), std::string::npos) << out;
}

TEST_F(KeydAudit, TruncationIsNamed) {
  const auto [code, out] = verify_copy(log.substr(0, log.size() - 5));
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("truncated"), std::string::npos) << out;
  // Cut at a line boundary: only keyd's head can tell.
  const std::vector<std::string> lines = lines_of(log);
  std::string shorter;
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
    shorter += lines[i] + "\n";
  }
  write_file(a.dir.file("audit.log"), shorter, 0600);
  const auto [live_code, live] = keydctl(a, {"audit", "verify", "--file", a.dir.file("audit.log")});
  EXPECT_EQ(live_code, 1) << live;
  EXPECT_NE(live.find("truncated"), std::string::npos) << live;
}

TEST_F(KeydAudit, ForgedCheckpointFailsTheSignatureCheck) {
  // Rewrite the chain consistently but with a checkpoint signature from
  // nobody: the hashes line up, the signature does not.
  std::string changed = log;
  const std::size_t at = changed.find("\"sig\":\"") + 10;
  ASSERT_NE(at, std::string::npos + 10);
  changed[at] = changed[at] == 'A' ? 'B' : 'A';
  const auto [code, out] = verify_copy(changed);
  EXPECT_EQ(code, 1) << out;
}

TEST(KeydAuditFailClosed, AdministrativeOperationsAreRefusedWhenTheRecordCannotBeWritten) {
  Appliance a(false);
  SpawnOptions opts;
  opts.env = {{"ORBITNEST_KEYD_FAULT", "audit.fail_when_flagged"}};
  auto keyd = a.start_keyd(opts);
  keyd::KeydConnection conn = connect_when_ready(a);
  conn.call(Op::ensure_keyring, {"demo"});
  const std::string keys_before(conn.call(Op::list_keys, {"admin"}).fields.at(0));
  write_file(a.dir.file("audit.log.fail"), "");
  try {
    conn.call(Op::rotate, {"admin", keyd::encode_u8(0)});
    FAIL() << "rotation went ahead without its audit record";
  } catch (const keyd::KeydError& e) {
    EXPECT_EQ(e.status(), keyd::Status::internal);
    EXPECT_NE(std::string(e.what()).find("audit log cannot be written"), std::string::npos) << e.what();
  }
  EXPECT_THROW(conn.call(Op::ensure_keyring, {"newproj"}), keyd::KeydError);
  EXPECT_EQ(std::string(conn.call(Op::list_keys, {"admin"}).fields.at(0)), keys_before);
  EXPECT_THROW(conn.call(Op::list_keys, {"project:newproj"}), keyd::KeydError);
  // Signing is not administrative: it goes on (and is summarised later).
  EXPECT_NO_THROW(conn.call(Op::sign_jwt, {"project:demo", project_claims("demo")}));
}

// The op table audits every failure of an audited op, whatever was thrown:
// here the HSM itself fails (the key keyd signs with was destroyed behind
// its back, a real PKCS#11 error), and a claims refusal.
TEST(KeydAuditedFailures, AnHsmFailureOfSigningLeavesAnAuditRecord) {
  Appliance a(false);
  auto keyd = a.start_keyd();
  keyd::KeydConnection conn = connect_when_ready(a);
  conn.call(Op::ensure_keyring, {"demo"});
  conn.call(Op::sign_jwt, {"project:demo", project_claims("demo")});  // keyd now holds the key's handle
  std::string label;
  const boost::json::value keys = boost::json::parse(std::string(conn.call(Op::list_keys, {"project:demo"}).fields.at(0)));
  for (const boost::json::value& k : keys.as_array()) {
    if (k.at("state").as_string() == "current") {
      label = keyd::signing_key_label("project:demo", static_cast<int>(k.at("version").as_int64()));
    }
  }
  ASSERT_FALSE(label.empty());
  const auto [code, out] = run_command({"/usr/bin/pkcs11-tool", "--module", kSoftHsmModule, "--login", "--pin",
                                        a.token.pin(), "--token-label", a.token.label(), "--delete-object", "--type",
                                        "privkey", "--label", label},
                                       {{"SOFTHSM2_CONF", a.token.conf_path()}});
  ASSERT_EQ(code, 0) << out;
  std::string status;
  try {
    conn.call(Op::sign_jwt, {"project:demo", project_claims("demo")});
    FAIL() << "keyd signed with a key the HSM no longer holds";
  } catch (const keyd::KeydError& e) {
    status = std::string(keyd::status_name(e.status()));
  }
  EXPECT_EQ(status, "hsm_error");  // SoftHSM: the handle names an object that is gone
  const std::string audit = read_file(a.dir.file("audit.log"));
  EXPECT_NE(audit.find(R"("event":"op_failed","op":"sign_jwt","result":")" + status + ": "), std::string::npos)
      << status << "\n" << audit;
}

TEST(KeydAuditedFailures, RefusedClaimsLeaveAnAuditRecordAndUnauditedOpsDoNot) {
  Appliance a(false);
  auto keyd = a.start_keyd();
  keyd::KeydConnection conn = connect_when_ready(a);
  conn.call(Op::ensure_keyring, {"demo"});
  EXPECT_THROW(conn.call(Op::sign_jwt, {"project:demo", project_claims("demo", 600, "service_role")}),
               keyd::KeydError);
  EXPECT_THROW(conn.call(Op::unseal, {"totp", "aad", "not a blob"}), keyd::KeydError);
  const std::string audit = read_file(a.dir.file("audit.log"));
  EXPECT_NE(audit.find(R"("event":"op_failed","op":"sign_jwt","result":"bad_request: claims refused)"),
            std::string::npos)
      << audit;
  EXPECT_EQ(audit.find(R"("op":"unseal")"), std::string::npos) << audit;
}

}  // namespace
}  // namespace orbitnest::test

namespace orbitnest::test {
namespace {

TEST_F(KeydAudit, LogWithoutCheckpointsFailsVerification) {
  // Every checkpoint dropped and the chain rehashed: every hash lines up
  // and no signature is left to fail. The spacing (3) catches it.
  const std::string bare = rehash(without_checkpoints(lines_of(log)));
  const auto [code, out] = verify_copy(bare);
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("no signed checkpoint"), std::string::npos) << out;
  const auto [known, known_out] = run_command({ORBITNEST_KEYDCTL_BIN, "--socket", "/nonexistent", "audit", "verify",
                                               "--file", a.dir.file("copy.log"), "--checkpoint-every", "3"});
  EXPECT_EQ(known, 1) << known_out;
  EXPECT_NE(known_out.find("BROKEN at record 4: no checkpoint within the first 4"), std::string::npos) << known_out;
}

TEST_F(KeydAudit, RehashedChainFailsTheCheckpointSignature) {
  std::vector<std::string> lines = lines_of(log);
  const std::size_t edited = 2;  // a keyring_created or key_generated record
  lines[edited].insert(lines[edited].size() - 1, ",\"note\":\"forged\"");
  const auto [code, out] = verify_copy(rehash(lines));
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("checkpoint signature does not verify"), std::string::npos) << out;
  // Deleting a record and rehashing: the same.
  lines = lines_of(log);
  lines.erase(lines.begin() + 1);
  const auto [del_code, del_out] = verify_copy(rehash(lines));
  EXPECT_EQ(del_code, 1) << del_out;
}

TEST_F(KeydAudit, CleanStopAndStartSignTheHead) {
  EXPECT_EQ(keyd->stop(), 0);
  keyd = a.start_keyd({}, a.dir.file("keyd.yaml"));
  connect_when_ready(a);
  const std::vector<std::string> lines = lines_of(read_file(a.dir.file("audit.log")));
  const std::vector<std::string> before = lines_of(log);
  // The clean stop ended the log with a checkpoint; the start checkpointed
  // it again before writing anything else.
  std::size_t stop_at = 0;
  for (std::size_t i = before.size(); i < lines.size(); ++i) {
    if (lines[i].find("\"event\":\"config_loaded\"") != std::string::npos) {
      stop_at = i;
      break;
    }
  }
  ASSERT_GE(stop_at, 2u);
  EXPECT_TRUE(is_checkpoint(lines[stop_at - 1])) << lines[stop_at - 1];
  EXPECT_TRUE(is_checkpoint(lines[stop_at - 2])) << lines[stop_at - 2];
  const auto [live_code, live] = keydctl(a, {"audit", "verify", "--file", a.dir.file("audit.log")});
  EXPECT_EQ(live_code, 0) << live;
}

TEST_F(KeydAudit, KeydRefusesToContinueALogWithoutCheckpoints) {
  const auto [code, out] = restart_after([](std::string text) { return rehash(without_checkpoints(lines_of(text))); });
  ASSERT_TRUE(code.has_value()) << "keyd adopted a log whose checkpoints were removed";
  EXPECT_EQ(*code, 65) << out;
  EXPECT_NE(out.find("keyd.audit_log_rejected"), std::string::npos) << out;
  EXPECT_NE(out.find("no checkpoint within the first 4"), std::string::npos) << out;
}

TEST_F(KeydAudit, KeydRefusesToContinueARehashedLog) {
  const auto [code, out] = restart_after([](std::string text) {
    std::vector<std::string> lines = lines_of(text);
    lines[2].insert(lines[2].size() - 1, ",\"note\":\"forged\"");
    return rehash(lines);
  });
  ASSERT_TRUE(code.has_value()) << "keyd adopted a rehashed log";
  EXPECT_EQ(*code, 65) << out;
  EXPECT_NE(out.find("does not verify with the HSM audit key"), std::string::npos) << out;
}

TEST_F(KeydAudit, KeydRefusesALongUnsignedTail) {
  // Records appended after the last checkpoint, more than the spacing
  // allows (3): nobody signed for them.
  const auto [code, out] = restart_after([](std::string text) {
    std::vector<std::string> lines = lines_of(text);
    for (int i = 0; i < 4; ++i) {
      lines.push_back(R"({"seq":0,"event":"key_destroyed","result":"ok","prev":""})");
    }
    return rehash(lines);
  });
  ASSERT_TRUE(code.has_value()) << "keyd adopted an unsigned tail beyond the spacing";
  EXPECT_EQ(*code, 65) << out;
  EXPECT_NE(out.find("more than 3 records after the checkpoint"), std::string::npos) << out;
}

TEST_F(KeydAudit, KeydComesBackAfterACrashWithinTheSpacing) {
  // SIGKILL leaves at most checkpoint_every records after the last
  // checkpoint: keyd verifies them, adopts them and signs them at start.
  ::kill(keyd->pid(), SIGKILL);
  keyd->wait_exit(std::chrono::seconds(10));
  keyd = a.start_keyd({}, a.dir.file("keyd.yaml"));
  keyd::KeydConnection conn = connect_when_ready(a);
  EXPECT_NO_THROW(conn.call(Op::rotate, {"project:demo", keyd::encode_u8(0)}));
  const auto [code, out] = keydctl(a, {"audit", "verify", "--file", a.dir.file("audit.log")});
  EXPECT_EQ(code, 0) << out;
}

}  // namespace
}  // namespace orbitnest::test
