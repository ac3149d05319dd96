// The keyring state in the token (#14 item 5): an install whose state is
// only the file an older keyd wrote upgrades without losing a key, and
// signing, JWKS and listing never write the state (writes stay rare).
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>
#include <vector>

#include "keyd/keyring/token_state.h"
#include "tests/support/jws_check.h"
#include "tests/support/keyd_session.h"

namespace orbitnest::test {
namespace {

using keyd::Op;

std::vector<std::string> state_object_labels(const Appliance& a) {
  const auto [code, out] = run_command({"/usr/bin/pkcs11-tool", "--module", kSoftHsmModule, "--login", "--pin",
                                        a.token.pin(), "--token-label", a.token.label(), "--list-objects", "--type",
                                        "data"},
                                       {{"SOFTHSM2_CONF", a.token.conf_path()}});
  EXPECT_EQ(code, 0) << out;
  std::vector<std::string> labels;
  for (std::size_t at = out.find("label:"); at != std::string::npos; at = out.find("label:", at + 1)) {
    std::string label = out.substr(at + 6, out.find('\n', at) - at - 6);
    label.erase(0, label.find_first_not_of(' '));
    if (label.size() >= 2 && label.front() == '\'' && label.back() == '\'') {
      label = label.substr(1, label.size() - 2);  // data object labels are quoted
    }
    if (label.rfind("orbitnest:state:", 0) == 0) {
      labels.push_back(label);
    }
  }
  return labels;
}

std::string keys_json(keyd::KeydConnection& conn) { return std::string(conn.call(Op::list_keys, {""}).fields.at(0)); }

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(KeydTokenState, AnInstallWithOnlyTheOldStateFileUpgradesWithoutLosingKeys) {
  Appliance a(false);
  const std::string config = a.write_config("keyd.yaml", a.keyd_yaml());
  std::string token;
  std::string keys_before;
  {
    auto keyd = a.start_keyd({}, config);
    keyd::KeydConnection conn = connect_when_ready(a);
    conn.call(Op::ensure_keyring, {"demo"});
    conn.call(Op::rotate, {"project:demo", keyd::encode_u8(0)});
    keys_before = keys_json(conn);  // (before signing: the list counts signatures since keyd started)
    token = std::string(conn.call(Op::sign_jwt, {"project:demo", project_claims("demo")}).fields.at(0));
    keyd->stop();
  }
  // Make it the install an older keyd left: the state only in
  // keyrings.json (without the generation it now carries), none in the token.
  const std::vector<std::string> labels = state_object_labels(a);
  ASSERT_FALSE(labels.empty());
  for (const std::string& label : labels) {
    const auto [code, out] = run_command({"/usr/bin/pkcs11-tool", "--module", kSoftHsmModule, "--login", "--pin",
                                          a.token.pin(), "--token-label", a.token.label(), "--delete-object",
                                          "--type", "data", "--label", label},
                                         {{"SOFTHSM2_CONF", a.token.conf_path()}});
    ASSERT_EQ(code, 0) << out;
  }
  ASSERT_TRUE(state_object_labels(a).empty());
  const std::string file = a.dir.file("keyd-state/keyrings.json");
  boost::json::object old = boost::json::parse(read_text(file)).as_object();
  ASSERT_TRUE(old.erase("generation"));
  write_file(file, boost::json::serialize(old) + "\n", 0600);

  auto keyd = a.start_keyd({}, config);
  keyd::KeydConnection conn = connect_when_ready(a);
  EXPECT_EQ(keys_json(conn), keys_before) << "the upgrade changed the keys";
  EXPECT_EQ(botan_verify_jws(token, std::string(conn.call(Op::jwks, {"project:demo"}).fields.at(0))), "");
  const std::vector<std::string> imported = state_object_labels(a);
  ASSERT_EQ(imported.size(), 1u);
  EXPECT_EQ(imported[0].rfind("orbitnest:state:g00000000000000000001:", 0), 0u) << imported[0];
  // From now on the token is the truth: a rotation lands there.
  conn.call(Op::rotate, {"project:demo", keyd::encode_u8(0)});
  keyd->stop();
  EXPECT_EQ(state_object_labels(a).size(), 2u);
}

TEST(KeydTokenState, SigningPublishingAndListingNeverWriteTheState) {
  Appliance a(false);
  auto keyd = a.start_keyd();
  keyd::KeydConnection conn = connect_when_ready(a);
  conn.call(Op::ensure_keyring, {"demo"});
  const std::vector<std::string> before = state_object_labels(a);
  for (int i = 0; i < 200; ++i) {
    conn.call(Op::sign_jwt, {"project:demo", project_claims("demo")});
    conn.call(Op::jwks, {"project:demo"});
  }
  keys_json(conn);
  EXPECT_EQ(state_object_labels(a), before);
  EXPECT_LE(before.size(), keyd::kKeepGenerations);
}

}  // namespace
}  // namespace orbitnest::test
