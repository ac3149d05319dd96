// The audit chain check on hand-made logs: whole, altered, removed,
// truncated, and cut at a line boundary (caught only with keyd's head).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "keyd/audit/audit_record.h"
#include "keyd/audit/audit_verifier.h"

namespace orbitnest::keyd {
namespace {

std::vector<std::string> chain(int n) {
  std::vector<std::string> lines;
  std::string prev(kGenesisHash);
  for (int i = 1; i <= n; ++i) {
    const std::string line = boost::json::serialize(
        boost::json::object{{"seq", i}, {"event", "key_generated"}, {"kid", "k" + std::to_string(i)}, {"prev", prev}});
    prev = sha256_hex(line);
    lines.push_back(line);
  }
  return lines;
}

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) {
    out += l + "\n";
  }
  return out;
}

TEST(AuditVerifier, WholeChainVerifies) {
  const AuditVerdict v = verify_audit_log(join(chain(5)), "", std::nullopt);
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.records, 5u);
  EXPECT_TRUE(verify_audit_log("", "", std::nullopt).ok);
}

TEST(AuditVerifier, AlteredRecordIsNamed) {
  std::vector<std::string> lines = chain(5);
  lines[2].replace(lines[2].find("k3"), 2, "k9");
  const AuditVerdict v = verify_audit_log(join(lines), "", std::nullopt);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.bad_record, 4u) << "record 4 no longer chains to the altered record 3";
  EXPECT_NE(v.problem.find("altered"), std::string::npos);
}

TEST(AuditVerifier, RemovedRecordIsNamed) {
  std::vector<std::string> lines = chain(5);
  lines.erase(lines.begin() + 1);
  const AuditVerdict v = verify_audit_log(join(lines), "", std::nullopt);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.bad_record, 2u);
  EXPECT_NE(v.problem.find("removed"), std::string::npos);
}

TEST(AuditVerifier, TruncationIsNamed) {
  const std::string text = join(chain(5));
  const AuditVerdict cut = verify_audit_log(text.substr(0, text.size() - 10), "", std::nullopt);
  EXPECT_FALSE(cut.ok);
  EXPECT_EQ(cut.bad_record, 5u);
  const std::vector<std::string> lines = chain(5);
  const std::string four = join({lines.begin(), lines.begin() + 4});
  EXPECT_TRUE(verify_audit_log(four, "", std::nullopt).ok) << "a clean cut needs keyd's head to show";
  const AuditVerdict with_head = verify_audit_log(four, "", AuditHead{5, sha256_hex(lines[4])});
  EXPECT_FALSE(with_head.ok);
  EXPECT_EQ(with_head.bad_record, 5u);
  EXPECT_NE(with_head.problem.find("truncated"), std::string::npos);
}

}  // namespace
}  // namespace orbitnest::keyd
