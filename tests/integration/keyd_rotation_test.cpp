// Rotation: under concurrent signers nothing fails and every token
// verifies against the JWKS fetched after it; killed at any step, keyd
// comes back with exactly one current key, no orphaned key in the HSM, and
// every token it signed before the kill still verifies.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <algorithm>
#include <set>
#include <thread>

#include "keyd/keyring/keyring_state.h"
#include "tests/support/jws_check.h"
#include "tests/support/keyd_session.h"

namespace orbitnest::test {
namespace {

using keyd::Op;
using namespace std::chrono_literals;

boost::json::array keys_of(keyd::KeydConnection& conn, const std::string& keyring) {
  return boost::json::parse(conn.call(Op::list_keys, {keyring}).fields.at(0)).as_array();
}

int count_state(const boost::json::array& keys, const char* state) {
  int n = 0;
  for (const boost::json::value& k : keys) {
    n += k.at("state").as_string() == state ? 1 : 0;
  }
  return n;
}

// Labels of the signing keys on the token, read with pkcs11-tool.
std::set<std::string> token_labels(const Appliance& a) {
  const auto [code, out] = run_command({"/usr/bin/pkcs11-tool", "--module", kSoftHsmModule, "--login", "--pin",
                                        a.token.pin(), "--list-objects", "--type", "privkey", "--token-label",
                                        a.token.label()},
                                       {{"SOFTHSM2_CONF", a.token.conf_path()}});
  EXPECT_EQ(code, 0) << out;
  std::set<std::string> labels;
  for (std::size_t at = out.find("label:"); at != std::string::npos; at = out.find("label:", at + 1)) {
    std::string label = out.substr(at + 6, out.find('\n', at) - at - 6);
    label.erase(0, label.find_first_not_of(' '));
    if (label.rfind(keyd::kSigningLabelPrefix, 0) == 0) {
      labels.insert(label);
    }
  }
  return labels;
}

std::set<std::string> expected_labels(keyd::KeydConnection& conn) {
  std::set<std::string> labels;
  for (const boost::json::value& k : keys_of(conn, "")) {
    if (k.at("state").as_string() != "retired") {
      labels.insert(keyd::signing_key_label(std::string(k.at("keyring").as_string()),
                                            static_cast<int>(k.at("version").as_int64())));
    }
  }
  return labels;
}

TEST(KeydRotation, EightConcurrentSignersNeverFailAcrossRotations) {
  Appliance a(false);
  auto keyd = a.start_keyd();
  keyd::KeydConnection admin = connect_when_ready(a);
  admin.call(Op::ensure_keyring, {"demo"});
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::atomic<int> signed_count{0};
  std::vector<std::string> problems(8);
  std::vector<std::thread> signers;
  for (int i = 0; i < 8; ++i) {
    signers.emplace_back([&, i] {
      try {
        keyd::KeydConnection conn(a.keyd_socket(), 10000ms);
        while (!stop.load()) {
          const std::string jws(conn.call(Op::sign_jwt, {"project:demo", project_claims("demo")}).fields.at(0));
          const std::string jwks(conn.call(Op::jwks, {"project:demo"}).fields.at(0));
          const std::string why = botan_verify_jws(jws, jwks);
          if (!why.empty()) {
            problems[i] = why;
            ++failures;
          }
          ++signed_count;
        }
      } catch (const std::exception& e) {
        problems[i] = e.what();
        ++failures;
      }
    });
  }
  for (int r = 0; r < 5; ++r) {
    std::this_thread::sleep_for(150ms);
    admin.call(Op::rotate, {"project:demo", keyd::encode_u8(0)});
  }
  std::this_thread::sleep_for(150ms);
  stop = true;
  for (std::thread& t : signers) {
    t.join();
  }
  for (const std::string& p : problems) {
    EXPECT_EQ(p, "");
  }
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(signed_count.load(), 100);
  const boost::json::array keys = keys_of(admin, "project:demo");
  EXPECT_EQ(count_state(keys, "current"), 1);
  EXPECT_EQ(count_state(keys, "next"), 1);
  EXPECT_EQ(count_state(keys, "previous"), 5);
}

TEST(KeydRotation, RefusedBeforeTheNextKeyWasPublishedLongEnough) {
  Appliance a(false);
  KeydOptions o;
  o.min_prepublish_seconds = 3600;
  auto keyd = a.start_keyd({}, a.write_config("keyd.yaml", a.keyd_yaml(o)));
  keyd::KeydConnection conn = connect_when_ready(a);
  try {
    conn.call(Op::rotate, {"admin", keyd::encode_u8(0)});
    FAIL() << "rotation should have been refused";
  } catch (const keyd::KeydError& e) {
    EXPECT_NE(std::string(e.what()).find("min_prepublish_seconds"), std::string::npos) << e.what();
  }
  EXPECT_EQ(count_state(keys_of(conn, "admin"), "previous"), 0);
  conn.call(Op::rotate, {"admin", keyd::encode_u8(1)});  // --force
  EXPECT_EQ(count_state(keys_of(conn, "admin"), "previous"), 1);
}

TEST(KeydRotation, PreviousKeysRetireAfterTheirWindowAndLeaveTheHsm) {
  Appliance a(false);
  KeydOptions o;
  o.max_token_lifetime_seconds = 1;
  o.clock_skew_seconds = 0;
  o.verify_window_seconds = 1;
  auto keyd = a.start_keyd({}, a.write_config("keyd.yaml", a.keyd_yaml(o)));
  keyd::KeydConnection conn = connect_when_ready(a);
  conn.call(Op::rotate, {"admin", keyd::encode_u8(0)});
  const std::string retiring(keys_of(conn, "admin")[0].at("kid").as_string());
  std::this_thread::sleep_for(1100ms);
  conn.call(Op::rotate, {"admin", keyd::encode_u8(0)});  // also retires what is past its window
  const boost::json::array keys = keys_of(conn, "admin");
  EXPECT_EQ(count_state(keys, "retired"), 1);
  EXPECT_EQ(count_state(keys, "previous"), 1);
  const std::string jwks(conn.call(Op::jwks, {"admin"}).fields.at(0));
  EXPECT_EQ(jwks.find(std::string(keys[0].at("kid").as_string())), std::string::npos) << "retired key still published";
  keyd->stop();
  EXPECT_EQ(token_labels(a).count(keyd::signing_key_label("admin", 1)), 0u) << "retired key not destroyed";
}

class CrashDuringRotation : public ::testing::TestWithParam<std::string> {};

TEST_P(CrashDuringRotation, RestartLeavesOneCurrentKeyAndOldTokensVerify) {
  Appliance a(false);
  KeydOptions o;
  o.max_token_lifetime_seconds = 1;
  o.clock_skew_seconds = 0;
  o.verify_window_seconds = 1;
  const std::string config = a.write_config("keyd.yaml", a.keyd_yaml(o));
  std::string before;
  {
    auto keyd = a.start_keyd({}, config);
    keyd::KeydConnection conn = connect_when_ready(a);
    conn.call(Op::rotate, {"admin", keyd::encode_u8(0)});  // v1 becomes previous
    keyd->stop();
  }
  std::this_thread::sleep_for(1100ms);  // v1 is now past its window: the next rotation retires it
  SpawnOptions faulty;
  faulty.env = {{"ORBITNEST_KEYD_FAULT", GetParam()}};
  auto keyd = a.start_keyd(faulty, config);
  {
    keyd::KeydConnection conn = connect_when_ready(a);
    const std::int64_t now = unix_now();
    before = std::string(conn.call(Op::sign_jwt, {"admin", R"({"iss":"https://localhost/admin","sub":"a","aud":"orbitnest-admin","role":"admin","iat":)" +
                                                               std::to_string(now) + R"(,"exp":)" + std::to_string(now + 1) + "}"})
                             .fields.at(0));
    EXPECT_THROW(conn.call(Op::rotate, {"admin", keyd::encode_u8(0)}), keyd::KeydUnavailable);
  }
  EXPECT_EQ(keyd->wait_exit(10s), 128 + SIGKILL) << "the fault point was not reached";

  auto restarted = a.start_keyd({}, config);
  keyd::KeydConnection conn = connect_when_ready(a);
  const boost::json::array keys = keys_of(conn, "admin");
  EXPECT_EQ(count_state(keys, "current"), 1);
  EXPECT_EQ(count_state(keys, "next"), 1);
  // The token signed just before the crash verifies with the JWKS now.
  EXPECT_EQ(botan_verify_jws(before, std::string(conn.call(Op::jwks, {"admin"}).fields.at(0))), "");
  // The HSM holds exactly the keys the state names: no orphan, no leftover.
  const std::set<std::string> expected = expected_labels(conn);
  restarted->stop();
  EXPECT_EQ(token_labels(a), expected);
  // The audit chain is whole across the crash.
  const auto [code, out] = run_command({ORBITNEST_KEYDCTL_BIN, "--socket", "/nonexistent", "audit", "verify", "--file",
                                        a.dir.file("audit.log")});
  EXPECT_EQ(code, 0) << out;
}

INSTANTIATE_TEST_SUITE_P(Keyd, CrashDuringRotation,
                         ::testing::Values("rotate.after_intent", "rotate.after_generate", "rotate.after_state",
                                           "retire.after_state", "retire.after_destroy"),
                         [](const auto& param_info) {
                           std::string n = param_info.param;
                           std::replace(n.begin(), n.end(), '.', '_');
                           return n;
                         });

}  // namespace
}  // namespace orbitnest::test
