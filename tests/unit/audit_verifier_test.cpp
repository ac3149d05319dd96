// The audit chain check on hand-made logs with real ES256 checkpoints:
// whole, altered, removed, truncated, cut at a line boundary (caught only
// with keyd's head), and the rewrites a signature-less check let through:
// no checkpoints at all, a dropped checkpoint, a rehashed chain, a relaxed
// spacing, a long unsigned tail.
#include <gtest/gtest.h>

#include <botan/auto_rng.h>
#include <botan/ec_group.h>
#include <botan/ecdsa.h>
#include <botan/pubkey.h>
#include <botan/x509_key.h>

#include <boost/json.hpp>

#include "keyd/audit/audit_record.h"
#include "keyd/audit/audit_verifier.h"
#include "keyd/keyring/base64url.h"

namespace orbitnest::keyd {
namespace {

// Writes logs the way keyd does: records chained by "prev", a checkpoint
// (signed with an in-memory P-256 key standing in for the HSM's) after
// every `every` records.
class LogWriter {
 public:
  explicit LogWriter(std::uint64_t every) : m_every(every), m_key(m_rng, Botan::EC_Group("secp256r1")) {}

  std::string public_key_pem() const { return Botan::X509::PEM_encode(m_key); }

  void record(const std::string& kid) {
    push(boost::json::object{{"event", "key_generated"}, {"kid", kid}});
    if (++m_since >= m_every) {
      checkpoint();
    }
  }
  void checkpoint() {
    const std::uint64_t seq = m_lines.size() + 1;
    push(boost::json::object{{"event", "checkpoint"}, {"every", m_every}, {"sig", sign(seq, m_prev, m_every)}});
    m_since = 0;
  }
  std::string sign(std::uint64_t seq, const std::string& prev, std::uint64_t every) {
    Botan::PK_Signer signer(m_key, m_rng, "EMSA1(SHA-256)", Botan::IEEE_1363);
    const std::string msg = checkpoint_message(seq, prev, every);
    const std::vector<std::uint8_t> sig =
        signer.sign_message(reinterpret_cast<const std::uint8_t*>(msg.data()), msg.size(), m_rng);
    return base64url_encode(std::string(sig.begin(), sig.end()));
  }
  const std::vector<std::string>& lines() const { return m_lines; }

 private:
  void push(boost::json::object body) {
    boost::json::object r{{"seq", m_lines.size() + 1}};
    for (auto& kv : body) {
      r[kv.key()] = kv.value();
    }
    r["prev"] = m_prev;
    m_lines.push_back(boost::json::serialize(r));
    m_prev = sha256_hex(m_lines.back());
  }

  std::uint64_t m_every;
  Botan::AutoSeeded_RNG m_rng;
  Botan::ECDSA_PrivateKey m_key;
  std::vector<std::string> m_lines;
  std::string m_prev{kGenesisHash};
  std::uint64_t m_since = 0;
};

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) {
    out += l + "\n";
  }
  return out;
}

// What an attacker without the HSM key can do after an edit: renumber and
// recompute every prev so that the chain is whole again.
std::vector<std::string> rehash(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  std::string prev(kGenesisHash);
  for (const std::string& l : lines) {
    boost::json::object r = boost::json::parse(l).as_object();
    r["seq"] = out.size() + 1;
    r["prev"] = prev;
    out.push_back(boost::json::serialize(r));
    prev = sha256_hex(out.back());
  }
  return out;
}

std::vector<std::string> without_checkpoints(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  for (const std::string& l : lines) {
    if (l.find("\"event\":\"checkpoint\"") == std::string::npos) {
      out.push_back(l);
    }
  }
  return out;
}

class AuditVerifier : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 1; i <= 10; ++i) {
      log.record(std::string("k").append(std::to_string(i)));  // not operator+: GCC 12 -Wrestrict in Release
    }
    // 10 records, checkpoints after 3, 6 and 9: lines 4, 8, 12; line 13 is
    // an unsigned tail record.
    ASSERT_EQ(log.lines().size(), 13u);
  }
  AuditVerdict check(const std::vector<std::string>& lines, std::optional<AuditHead> head = std::nullopt,
                     std::optional<std::uint64_t> every = std::nullopt) {
    return verify_audit_log(join(lines), AuditExpectations{log.public_key_pem(), std::move(head), every});
  }
  LogWriter log{3};
};

TEST_F(AuditVerifier, SignedLogVerifiesAndReportsItsUnsignedTail) {
  const AuditVerdict v = check(log.lines());
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.records, 13u);
  EXPECT_EQ(v.checkpoints, 3u);
  EXPECT_EQ(v.unsigned_tail, 1u);
  EXPECT_EQ(v.checkpoint_every, 3u);
  EXPECT_TRUE(verify_audit_log("", AuditExpectations{}).ok);
  const AuditVerdict live = check(log.lines(), AuditHead{13, sha256_hex(log.lines().back())});
  EXPECT_TRUE(live.ok) << live.problem;
}

TEST_F(AuditVerifier, AlteredRecordIsNamed) {
  std::vector<std::string> lines = log.lines();
  lines[2].replace(lines[2].find("k3"), 2, "k9");
  const AuditVerdict v = check(lines);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.bad_record, 4u) << "record 4 no longer chains to the altered record 3";
  EXPECT_NE(v.problem.find("altered"), std::string::npos);
}

TEST_F(AuditVerifier, RemovedRecordIsNamed) {
  std::vector<std::string> lines = log.lines();
  lines.erase(lines.begin() + 1);
  const AuditVerdict v = check(lines);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.bad_record, 2u);
  EXPECT_NE(v.problem.find("removed"), std::string::npos);
}

TEST_F(AuditVerifier, RemovedAndRehashedRecordFailsTheNextSignature) {
  std::vector<std::string> lines = log.lines();
  lines.erase(lines.begin() + 5);  // record 6 (k5)
  const AuditVerdict v = check(rehash(lines));
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.bad_record, 7u) << v.problem;  // the checkpoint after it, renumbered
  EXPECT_NE(v.problem.find("signature"), std::string::npos) << v.problem;
}

TEST_F(AuditVerifier, EditedAndRehashedChainFailsTheSignature) {
  std::vector<std::string> lines = log.lines();
  lines[4].replace(lines[4].find("k4"), 2, "kX");
  const AuditVerdict v = check(rehash(lines));
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.bad_record, 8u);
  EXPECT_NE(v.problem.find("signature"), std::string::npos) << v.problem;
}

TEST_F(AuditVerifier, LogWithoutCheckpointsIsRefused) {
  // Every checkpoint dropped and the chain rehashed: hashes line up, no
  // signature is left to fail. The spacing catches it.
  const std::vector<std::string> bare = rehash(without_checkpoints(log.lines()));
  const AuditVerdict v = check(bare);
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.problem.find("no signed checkpoint"), std::string::npos) << v.problem;
  const AuditVerdict known = check(bare, std::nullopt, 3);
  EXPECT_FALSE(known.ok);
  EXPECT_EQ(known.bad_record, 4u) << known.problem;
  EXPECT_NE(known.problem.find("no checkpoint within the first 4"), std::string::npos) << known.problem;
  // A log keyd never signed (no HSM yet) passes within the spacing.
  EXPECT_TRUE(check({bare.begin(), bare.begin() + 3}, std::nullopt, 3).ok);
}

TEST_F(AuditVerifier, DroppedCheckpointIsCaught) {
  // Drop the last checkpoint (line 12) and rehash: 4 records follow the
  // checkpoint at line 8, one more than it promised.
  std::vector<std::string> lines = log.lines();
  lines.erase(lines.begin() + 11);
  const AuditVerdict v = check(rehash(lines));
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.bad_record, 12u) << v.problem;
  EXPECT_NE(v.problem.find("more than 3 records after the checkpoint at record 8"), std::string::npos) << v.problem;
  // Dropping a middle one breaks the next signature (its seq moved).
  lines = log.lines();
  lines.erase(lines.begin() + 7);
  const AuditVerdict mid = check(rehash(lines));
  EXPECT_FALSE(mid.ok);
}

TEST_F(AuditVerifier, SpacingIsSignedAndATailBeyondItIsCaught) {
  // Relaxing the last checkpoint's promise to hide a long forged tail.
  std::vector<std::string> lines = log.lines();
  lines[11].replace(lines[11].find("\"every\":3"), 9, "\"every\":9");
  for (int i = 0; i < 5; ++i) {
    lines.push_back(R"({"seq":0,"event":"key_generated","kid":"forged","prev":""})");
  }
  EXPECT_NE(check(rehash(lines)).problem.find("signature"), std::string::npos);
  // The same forged tail after an untouched checkpoint: beyond the spacing.
  lines = log.lines();
  for (int i = 0; i < 3; ++i) {
    lines.push_back(R"({"seq":0,"event":"key_generated","kid":"forged","prev":""})");
  }
  const AuditVerdict v = check(rehash(lines));
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.bad_record, 16u) << v.problem;
}

TEST_F(AuditVerifier, TruncationIsNamed) {
  const std::string text = join(log.lines());
  const AuditVerdict cut =
      verify_audit_log(text.substr(0, text.size() - 10), AuditExpectations{log.public_key_pem(), {}, {}});
  EXPECT_FALSE(cut.ok);
  EXPECT_EQ(cut.bad_record, 13u);
  const std::vector<std::string> twelve(log.lines().begin(), log.lines().begin() + 12);
  EXPECT_TRUE(check(twelve).ok) << "a clean cut right after a checkpoint needs keyd's head to show";
  const AuditVerdict with_head = check(twelve, AuditHead{13, sha256_hex(log.lines()[12])});
  EXPECT_FALSE(with_head.ok);
  EXPECT_EQ(with_head.bad_record, 13u);
  EXPECT_NE(with_head.problem.find("truncated"), std::string::npos);
}

TEST_F(AuditVerifier, RecordsAfterKeydsHeadAreCaught) {
  const std::vector<std::string> twelve(log.lines().begin(), log.lines().begin() + 12);
  const AuditVerdict v = check(log.lines(), AuditHead{12, sha256_hex(twelve.back())});
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.bad_record, 13u);
  EXPECT_NE(v.problem.find("keyd did not write"), std::string::npos) << v.problem;
  const AuditVerdict other = check(log.lines(), AuditHead{13, std::string(64, 'a')});
  EXPECT_FALSE(other.ok);
  EXPECT_NE(other.problem.find("differs"), std::string::npos) << other.problem;
}

TEST_F(AuditVerifier, CheckpointWithoutSpacingIsRefused) {
  std::vector<std::string> lines = log.lines();
  lines[3].replace(lines[3].find("\"every\":3,"), 10, "");
  const AuditVerdict v = check(rehash(lines));
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.bad_record, 4u);
  EXPECT_NE(v.problem.find("spacing"), std::string::npos) << v.problem;
}

}  // namespace
}  // namespace orbitnest::keyd
