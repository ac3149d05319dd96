// The audit log as an auditor sees it: keydctl audit verify on an untouched
// log, and on one with a flipped byte, a deleted record, a truncation; the
// checkpoints verify with the exported key; administrative operations are
// refused when their record cannot be written.
#include <gtest/gtest.h>

#include <boost/json.hpp>

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

}  // namespace
}  // namespace orbitnest::test
