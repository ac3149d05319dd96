// keyd's op table is its whole policy: every operation has one row with a
// unique number and name, PROTOCOL.md documents exactly those rows with the
// same callers, the keyd frame fuzzer has a seed for each, the flags are
// coherent, and the dispatcher enforces each row's peers.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "keyd/server/request_handler.h"

namespace orbitnest::keyd {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string peers_text(Peers p) {
  switch (p) {
    case Peers::authd: return "authd";
    case Peers::operators: return "operator";
    case Peers::both: return "authd, operator";
  }
  return "?";
}

std::string flags_text(const OpRow& row) {
  std::string out;
  for (const auto& [flag, letter] : {std::pair{op_flag::needs_hello, "H"}, std::pair{op_flag::needs_ready, "R"},
                                     std::pair{op_flag::administrative, "A"}, std::pair{op_flag::audited, "U"}}) {
    if (row.has(flag)) {
      out += out.empty() ? letter : std::string(" ") + letter;
    }
  }
  return out.empty() ? "—" : out;
}

struct DocumentedOp {
  std::string name;
  std::string who;
  std::string flags;
};

std::string trimmed(const std::string& s) {
  const std::size_t b = s.find_first_not_of(' ');
  const std::size_t e = s.find_last_not_of(' ');
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// The rows of PROTOCOL.md's operations table, by number: "| N | name | who | flags | ...".
// (Split by hand: GCC 12 warns inside <regex> under the sanitizer build.)
std::map<std::uint16_t, DocumentedOp> documented_ops() {
  const std::string doc = slurp(std::string(ORBITNEST_SOURCE_DIR) + "/keyd/PROTOCOL.md");
  const std::size_t begin = doc.find("## Operations");
  const std::size_t end = doc.find("\n## ", begin + 1);
  std::map<std::uint16_t, DocumentedOp> out;
  std::istringstream lines(doc.substr(begin, end - begin));
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("| ")) {
      continue;
    }
    std::vector<std::string> cells;
    std::istringstream row(line.substr(1));
    for (std::string cell; std::getline(row, cell, '|');) {
      cells.push_back(trimmed(cell));
    }
    if (cells.size() < 4 || cells[0].empty() ||
        cells[0].find_first_not_of("0123456789") != std::string::npos) {
      continue;  // the header and separator rows
    }
    out[static_cast<std::uint16_t>(std::stoi(cells[0]))] = {cells[1], cells[2], cells[3]};
  }
  return out;
}

TEST(OpTable, NumbersAndNamesAreUnique) {
  std::set<std::uint16_t> numbers;
  std::set<std::string_view> names;
  for (const OpRow& row : op_table()) {
    EXPECT_TRUE(numbers.insert(static_cast<std::uint16_t>(row.op)).second) << row.name;
    EXPECT_TRUE(names.insert(row.name).second) << row.name;
    EXPECT_NE(row.handler, nullptr) << row.name;
    EXPECT_EQ(find_op_row(static_cast<std::uint16_t>(row.op)), &row) << row.name;
  }
  EXPECT_GE(numbers.size(), 14u);
}

TEST(OpTable, ProtocolMdDocumentsEveryRowAndNothingElse) {
  const auto documented = documented_ops();
  EXPECT_EQ(documented.size(), op_table().size());
  for (const OpRow& row : op_table()) {
    const auto it = documented.find(static_cast<std::uint16_t>(row.op));
    ASSERT_NE(it, documented.end()) << row.name << " has no PROTOCOL.md entry";
    EXPECT_EQ(it->second.name, row.name);
    EXPECT_EQ(it->second.who, peers_text(row.peers)) << row.name;
    EXPECT_EQ(it->second.flags, flags_text(row)) << row.name;
  }
  for (const auto& [number, doc] : documented) {
    EXPECT_NE(find_op_row(number), nullptr) << "PROTOCOL.md documents " << doc.name << " but keyd has no row";
  }
}

TEST(OpTable, EveryRowHasAFuzzSeedForItsOperation) {
  for (const OpRow& row : op_table()) {
    const std::string path = std::string(ORBITNEST_SOURCE_DIR) + "/tests/fuzz/corpus/keyd_frame/" + std::string(row.name);
    const std::string seed = slurp(path);
    ASSERT_FALSE(seed.empty()) << "no fuzz seed " << path;
    const Frame f = decode_frame(std::span<const std::uint8_t>(
        reinterpret_cast<const std::uint8_t*>(seed.data()), seed.size()));
    EXPECT_EQ(f.kind, FrameKind::request) << row.name;
    EXPECT_EQ(f.op, static_cast<std::uint16_t>(row.op)) << row.name;
  }
}

TEST(OpTable, FlagsAreCoherent) {
  for (const OpRow& row : op_table()) {
    if (row.op == Op::hello) {
      EXPECT_EQ(row.flags, 0) << "hello is what a connection starts with";
      continue;
    }
    EXPECT_TRUE(row.has(op_flag::needs_hello)) << row.name;
    if (row.has(op_flag::administrative)) {
      EXPECT_TRUE(row.has(op_flag::audited)) << row.name;
      EXPECT_TRUE(row.has(op_flag::needs_ready)) << row.name;
    }
  }
}

// Each row's peers, through the dispatcher: a peer of a class the row
// names gets past the peer check (not_ready, as keyd has no HSM here); any
// other gets forbidden and the connection closes.
TEST(OpTable, TheDispatcherEnforcesEachRowsPeers) {
  KeydState state;
  const RequestHandler handler(state);
  for (const OpRow& row : op_table()) {
    for (const PeerClass c : {PeerClass::authd, PeerClass::operator_}) {
      ConnectionState conn{PeerRights{c == PeerClass::authd, c == PeerClass::operator_}, true, {}, "test"};
      Frame req;
      req.op = static_cast<std::uint16_t>(row.op);
      req.fields = row.op == Op::hello ? std::vector<std::string>{encode_u16(kProtocolVersion)}
                                       : std::vector<std::string>{};
      const HandlerResult r = handler.handle(encode_frame(req), conn);
      const Frame resp = decode_frame(r.response);
      const bool allowed = row.permits(conn.rights);
      EXPECT_EQ(allowed, c == PeerClass::authd ? row.peers != Peers::operators : row.peers != Peers::authd);
      EXPECT_EQ(resp.status == Status::forbidden, !allowed) << row.name;
      EXPECT_EQ(r.close_connection, !allowed) << row.name;
    }
  }
}

}  // namespace
}  // namespace orbitnest::keyd
