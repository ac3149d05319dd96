// Several nodes (#14 item 5): two keyd sharing one SoftHSM2 token folder
// (the stand-in for an HSM cluster) and two authd on one database. The
// keyring state lives in the token, so both keyd see the same keys; a
// rotation on one is seen by the other and by both authd's JWKS; two keyd
// rotating the same keyring at once end in one consistent state; sessions,
// refresh rotation, replay detection and rate limits are Postgres's and
// hold across nodes; killing a node loses nothing. Label multinode.
#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <barrier>
#include <boost/json.hpp>
#include <map>
#include <set>
#include <thread>

#include "keyd/keyring/keyring_state.h"
#include "tests/support/authd_session.h"
#include "tests/support/jws_check.h"
#include "tests/support/keyd_session.h"

namespace orbitnest::test {
namespace {

using keyd::Op;
using namespace std::chrono_literals;

KeydOptions shared_options() {
  KeydOptions o;
  o.shared_token = true;
  o.state_refresh_ms = 1000;  // keyd's default, said here because the test waits on it
  return o;
}

std::unique_ptr<ChildProcess> start_shared_keyd(const Appliance& a) {
  return a.start_keyd({}, a.write_config("keyd.yaml", a.keyd_yaml(shared_options())));
}

boost::json::array keys_of(keyd::KeydConnection& conn, const std::string& keyring) {
  return boost::json::parse(conn.call(Op::list_keys, {keyring}).fields.at(0)).as_array();
}

// kid -> state, what two nodes must agree on.
std::map<std::string, std::string> key_states(keyd::KeydConnection& conn, const std::string& keyring) {
  std::map<std::string, std::string> out;
  for (const boost::json::value& k : keys_of(conn, keyring)) {
    out[std::string(k.at("kid").as_string())] = std::string(k.at("state").as_string());
  }
  return out;
}

int count(const std::map<std::string, std::string>& states, const std::string& state) {
  int n = 0;
  for (const auto& [kid, s] : states) {
    n += s == state ? 1 : 0;
  }
  return n;
}

std::string current_kid(const std::map<std::string, std::string>& states) {
  for (const auto& [kid, s] : states) {
    if (s == "current") {
      return kid;
    }
  }
  return "";
}

std::string jwks_of(keyd::KeydConnection& conn, const std::string& keyring) {
  return std::string(conn.call(Op::jwks, {keyring}).fields.at(0));
}

// Waits until `fn()` holds (keyd re-reads the token's state at most every
// state.refresh_ms; authd caches a JWKS up to a minute).
template <typename Fn>
bool eventually(Fn&& fn, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (fn()) {
      return true;
    }
    std::this_thread::sleep_for(100ms);
  }
  return fn();
}

std::string field(const HttpResult& r, const char* name) {
  const boost::json::value v = boost::json::parse(r.body);
  const boost::json::value* f = v.as_object().if_contains(name);
  return f != nullptr && f->is_string() ? std::string(f->as_string()) : "";
}

std::string kid_of(const std::string& jws) {
  return std::string(boost::json::parse(split_jws(jws).header_json).at("kid").as_string());
}

TEST(Multinode, TwoKeydRotatingOneKeyringAtOnceEndInOneState) {
  Appliance a(false);
  Appliance b(Appliance::SecondNodeOf{a});
  auto keyd_a = start_shared_keyd(a);
  keyd::KeydConnection conn_a = connect_when_ready(a);
  auto keyd_b = start_shared_keyd(b);
  keyd::KeydConnection conn_b = connect_when_ready(b);
  conn_a.call(Op::ensure_keyring, {"demo"});
  // B knows the keyring A made at once (an unknown name makes keyd look).
  EXPECT_EQ(key_states(conn_b, "project:demo"), key_states(conn_a, "project:demo"));

  // Signers on both nodes all along: every token verifies with its own
  // node's JWKS fetched after it.
  std::atomic<bool> stop{false};
  std::vector<std::string> problems(2);
  std::atomic<int> signed_count{0};
  std::vector<std::string> tokens;
  std::mutex tokens_mutex;
  std::vector<std::thread> signers;
  for (int n = 0; n < 2; ++n) {
    signers.emplace_back([&, n] {
      try {
        keyd::KeydConnection conn((n == 0 ? a : b).keyd_socket(), 10000ms);
        while (!stop.load()) {
          const std::string jws(conn.call(Op::sign_jwt, {"project:demo", project_claims("demo")}).fields.at(0));
          const std::string why = botan_verify_jws(jws, jwks_of(conn, "project:demo"));
          if (!why.empty() && problems[n].empty()) {
            problems[n] = why;
          }
          ++signed_count;
          const std::lock_guard lock(tokens_mutex);
          tokens.push_back(jws);
        }
      } catch (const std::exception& e) {
        problems[n] = e.what();
      }
    });
  }

  constexpr int kRounds = 30;
  std::set<std::string> ever_current{current_kid(key_states(conn_a, "project:demo"))};
  std::atomic<int> errors{0};
  std::string first_error;
  for (int round = 0; round < kRounds; ++round) {
    std::barrier together(2);
    std::vector<std::string> promoted(2);
    std::vector<std::thread> rotators;
    for (int n = 0; n < 2; ++n) {
      rotators.emplace_back([&, n] {
        keyd::KeydConnection& conn = n == 0 ? conn_a : conn_b;
        together.arrive_and_wait();
        try {
          const boost::json::array answer =
              boost::json::parse(conn.call(Op::rotate, {"project:demo", keyd::encode_u8(0)}).fields.at(0)).as_array();
          promoted[n] = std::string(answer.at(0).at("kid").as_string());
        } catch (const std::exception& e) {
          if (errors++ == 0) {
            first_error = e.what();
          }
        }
      });
    }
    for (std::thread& t : rotators) {
      t.join();
    }
    ever_current.insert(promoted.begin(), promoted.end());
  }
  stop = true;
  for (std::thread& t : signers) {
    t.join();
  }
  EXPECT_EQ(errors.load(), 0) << first_error;
  EXPECT_EQ(problems[0], "");
  EXPECT_EQ(problems[1], "");
  EXPECT_GT(signed_count.load(), 50);

  // Both nodes see one state: exactly one current and one next key, every
  // key that was ever current still there, and the same JWKS.
  std::map<std::string, std::string> on_a;
  std::map<std::string, std::string> on_b;
  EXPECT_TRUE(eventually(
      [&] {
        on_a = key_states(conn_a, "project:demo");
        on_b = key_states(conn_b, "project:demo");
        return on_a == on_b;
      },
      3s));
  EXPECT_EQ(on_a, on_b);
  EXPECT_EQ(count(on_a, "current"), 1);
  EXPECT_EQ(count(on_a, "next"), 1);
  const int rotations = count(on_a, "previous");
  EXPECT_GE(rotations, kRounds) << "a round's rotation went missing";
  EXPECT_LE(rotations, 2 * kRounds);
  for (const std::string& kid : ever_current) {
    EXPECT_TRUE(on_a.count(kid) == 1 && on_a.at(kid) != "retired") << kid << " was current once and is gone";
  }
  const std::string jwks_a = jwks_of(conn_a, "project:demo");
  EXPECT_EQ(jwks_a, jwks_of(conn_b, "project:demo"));
  int unverified = 0;
  for (const std::string& t : tokens) {
    unverified += botan_verify_jws(t, jwks_a).empty() ? 0 : 1;
  }
  EXPECT_EQ(unverified, 0) << "of " << tokens.size() << " tokens";
  std::cout << "[ multinode ] " << kRounds << " rounds of two rotations at once: " << rotations
            << " rotations stood, " << tokens.size() << " tokens signed meanwhile\n";

  // A node that restarts reads the same state from the token.
  keyd_b->stop();
  keyd_b = start_shared_keyd(b);
  keyd::KeydConnection again = connect_when_ready(b);
  EXPECT_EQ(key_states(again, "project:demo"), on_a);
  // Each node keeps its own audit chain, and each verifies.
  for (const Appliance* node : {&a, &b}) {
    const auto [code, out] = run_command({ORBITNEST_KEYDCTL_BIN, "--socket", "/nonexistent", "audit", "verify",
                                          "--file", node->dir.file("audit.log")});
    EXPECT_EQ(code, 0) << out;
  }
}

// What the re-read costs: sign_jwt through the socket with keyd asking
// the token for the state's head before every signature (refresh_ms 0)
// against at most once a second (the default). Prints both; fails only if
// the check costs more than a few milliseconds.
TEST(Multinode, TheStateCheckBeforeSigningIsCheap) {
  Appliance a(false);
  Appliance b(Appliance::SecondNodeOf{a});
  auto keyd_b = start_shared_keyd(b);  // another node on the token, idle
  connect_when_ready(b);
  const auto per_sign = [&](int refresh_ms) {
    KeydOptions o = shared_options();
    o.state_refresh_ms = refresh_ms;
    auto keyd = a.start_keyd({}, a.write_config("keyd.yaml", a.keyd_yaml(o)));
    keyd::KeydConnection conn = connect_when_ready(a);
    conn.call(Op::ensure_keyring, {"demo"});
    constexpr int kSigns = 2000;
    const std::string claims = project_claims("demo");
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kSigns; ++i) {
      conn.call(Op::sign_jwt, {"project:demo", claims});
    }
    const double us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / kSigns;
    keyd->stop();
    return us;
  };
  const double every_second = per_sign(1000);
  const double every_sign = per_sign(0);
  std::cout << "[ multinode ] sign_jwt, 1 client: " << every_second << " us with the state checked at most once a "
            << "second, " << every_sign << " us checked before every signature\n";
  EXPECT_LT(every_sign - every_second, 5000.0);
}

class TwoNodes : public ::testing::Test {
 protected:
  void SetUp() override {
    keyd_a = start_shared_keyd(a);
    connect_when_ready(a);
    keyd_b = start_shared_keyd(b);
    connect_when_ready(b);
    config_a = a.write_config("authd.yaml", a.authd_yaml());
    config_b = b.write_config("authd.yaml", b.authd_yaml());
    demo = create_project("demo", true, config_a);
    ASSERT_FALSE(demo.publishable_key.empty());
    authd_a = a.start_authd({}, config_a);
    authd_b = b.start_authd({}, config_b);
    ASSERT_EQ(a.wait_for_status("/auth/v1/health", 200).status, 200);
    ASSERT_EQ(b.wait_for_status("/auth/v1/health", 200).status, 200);
  }
  HttpResult post(const Appliance& node, const std::string& path, const std::string& body) const {
    return api(node, "POST", "/projects/demo/auth/v1" + path, body, {"apikey: " + demo.publishable_key});
  }
  HttpResult user(const Appliance& node, const std::string& access_token) const {
    return api(node, "GET", "/projects/demo/auth/v1/user", "",
               {"apikey: " + demo.publishable_key, "Authorization: Bearer " + access_token});
  }
  HttpResult sign_up(const Appliance& node, const std::string& email) const {
    EXPECT_EQ(post(node, "/signup", R"({"email":")" + email + "\"}").status, 200);
    const HttpResult v = post(node, "/verify", R"({"type":"signup","email":")" + email + R"(","token":"1234"})");
    EXPECT_EQ(v.status, 200) << v.body;
    record_secret(field(v, "refresh_token"));
    return v;
  }
  HttpResult refresh(const Appliance& node, const std::string& token) const {
    return post(node, "/token?grant_type=refresh_token", R"({"refresh_token":")" + token + "\"}");
  }
  std::string jwks_at(const Appliance& node) const {
    return api(node, "GET", "/projects/demo/auth/v1/.well-known/jwks.json").body;
  }

  Appliance a;
  Appliance b{Appliance::SecondNodeOf{a}};
  std::unique_ptr<ChildProcess> keyd_a;
  std::unique_ptr<ChildProcess> keyd_b;
  std::unique_ptr<ChildProcess> authd_a;
  std::unique_ptr<ChildProcess> authd_b;
  std::string config_a;
  std::string config_b;
  TestProject demo;
};

TEST_F(TwoNodes, TokensSessionsReplaysAndLimitsHoldAcrossNodes) {
  // A token from A verifies on B.
  const HttpResult in = sign_up(a, "across@example.com");
  EXPECT_EQ(user(b, field(in, "access_token")).status, 200);

  // A session refreshed on A continues on B.
  const HttpResult c = refresh(a, field(in, "refresh_token"));
  ASSERT_EQ(c.status, 200) << c.body;
  const HttpResult d = refresh(b, field(c, "refresh_token"));
  ASSERT_EQ(d.status, 200) << d.body;
  EXPECT_EQ(user(b, field(d, "access_token")).status, 200);
  EXPECT_EQ(user(a, field(d, "access_token")).status, 200);

  // A replay on B of a token A already rotated (and whose child was used)
  // revokes the whole family, on both nodes.
  const HttpResult replay = refresh(b, field(in, "refresh_token"));
  EXPECT_EQ(replay.status, 400);
  EXPECT_NE(replay.body.find("refresh_token_already_used"), std::string::npos) << replay.body;
  EXPECT_NE(refresh(a, field(d, "refresh_token")).body.find("refresh_token_not_found"), std::string::npos);
  EXPECT_NE(refresh(b, field(d, "refresh_token")).body.find("refresh_token_not_found"), std::string::npos);

  // Rate limits are shared: A spends the per-IP budget, B refuses.
  ASSERT_EQ(run_command({ORBITNEST_AUTHD_BIN, "--config", config_a, "project", "settings", "demo",
                         "ip_requests_per_hour=3"}).first, 0);
  authd_a.reset();  // projects are cached: new authd read the setting at once
  authd_b.reset();
  authd_a = a.start_authd({}, config_a);
  authd_b = b.start_authd({}, config_b);
  ASSERT_EQ(a.wait_for_status("/auth/v1/health", 200).status, 200);
  ASSERT_EQ(b.wait_for_status("/auth/v1/health", 200).status, 200);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(post(a, "/otp", R"({"email":"ip)" + std::to_string(i) + R"(@example.com"})").status, 200) << i;
  }
  EXPECT_EQ(post(a, "/otp", R"({"email":"ip3@example.com"})").status, 429);
  // A's counts reach Postgres within its flush interval (250 ms)...
  EXPECT_TRUE(eventually(
      [&] {
        return a.db->scalar("SELECT coalesce(sum(hits), 0) >= 3 FROM auth.rate_limits WHERE key LIKE 'ip:otp:demo:%'") ==
               "t";
      },
      3s));
  // ...and B admits at most its first request (the bounded overshoot: it
  // had not read the shared count yet); once it flushed, it refuses.
  const HttpResult first_on_b = post(b, "/otp", R"({"email":"b0@example.com"})");
  EXPECT_TRUE(first_on_b.status == 200 || first_on_b.status == 429) << first_on_b.body;
  std::this_thread::sleep_for(600ms);
  const HttpResult on_b = post(b, "/otp", R"({"email":"b1@example.com"})");
  EXPECT_EQ(on_b.status, 429) << on_b.body;
}

TEST_F(TwoNodes, ARotationOnOneKeydIsSeenEverywhereAndKillingANodeLosesNothing) {
  keyd::KeydConnection admin_a = connect_when_ready(a);
  keyd::KeydConnection admin_b = connect_when_ready(b);
  const HttpResult before = sign_up(a, "before@example.com");
  ASSERT_EQ(user(b, field(before, "access_token")).status, 200);  // B's authd has the JWKS cached now

  // Two rotations on keyd A: the second promotes a key no authd cached yet
  // (min_prepublish_seconds is 0 here; in production the next key is in
  // every JWKS cache before it signs). authd fetches a JWKS for an unknown
  // kid only once its copy is a second old: wait that second.
  admin_a.call(Op::rotate, {"project:demo", keyd::encode_u8(0)});
  admin_a.call(Op::rotate, {"project:demo", keyd::encode_u8(0)});
  std::this_thread::sleep_for(1100ms);
  const std::map<std::string, std::string> on_a = key_states(admin_a, "project:demo");
  const std::string current = current_kid(on_a);
  // keyd B sees it within state.refresh_ms...
  EXPECT_TRUE(eventually([&] { return key_states(admin_b, "project:demo") == on_a; }, 3s));
  EXPECT_EQ(jwks_of(admin_b, "project:demo"), jwks_of(admin_a, "project:demo"));
  // ...and signs with the new current key: a session made on B carries it
  // and verifies on A (A's authd fetches the JWKS for the unknown kid).
  HttpResult on_b;
  EXPECT_TRUE(eventually(
      [&] {
        on_b = sign_up(b, "after" + random_hex(4) + "@example.com");
        return kid_of(field(on_b, "access_token")) == current;
      },
      3s));
  const HttpResult b_on_a = user(a, field(on_b, "access_token"));
  EXPECT_EQ(b_on_a.status, 200) << b_on_a.body;
  const HttpResult b_on_b = user(b, field(on_b, "access_token"));
  EXPECT_EQ(b_on_b.status, 200) << b_on_b.body;
  // Both authd publish what keyd publishes (authd caches a JWKS for at
  // most a minute; the unknown kid above made both fetch it again).
  const std::string keyd_jwks = jwks_of(admin_a, "project:demo");
  EXPECT_TRUE(eventually([&] { return jwks_at(a) == keyd_jwks && jwks_at(b) == keyd_jwks; }, 70s))
      << jwks_at(a) << "\n" << jwks_at(b) << "\n" << keyd_jwks;
  // The token signed before the rotations still verifies on both.
  EXPECT_EQ(user(a, field(before, "access_token")).status, 200);
  EXPECT_EQ(user(b, field(before, "access_token")).status, 200);

  // Node A dies (SIGKILL, both daemons): B serves on, sessions continue.
  const HttpResult refreshed_on_a = refresh(a, field(before, "refresh_token"));
  ASSERT_EQ(refreshed_on_a.status, 200);
  authd_a->stop(SIGKILL);
  keyd_a->stop(SIGKILL);
  const HttpResult continued = refresh(b, field(refreshed_on_a, "refresh_token"));
  ASSERT_EQ(continued.status, 200) << continued.body;
  EXPECT_EQ(user(b, field(continued, "access_token")).status, 200);
  EXPECT_EQ(user(b, field(on_b, "access_token")).status, 200);
  sign_up(b, "afterkill@example.com");
  EXPECT_EQ(key_states(admin_b, "project:demo"), on_a) << "a key was lost with node A";
  admin_b.call(Op::rotate, {"project:demo", keyd::encode_u8(0)});  // B rotates alone
  const std::map<std::string, std::string> on_b_now = key_states(admin_b, "project:demo");

  // A comes back and reads the state B wrote meanwhile.
  keyd_a = start_shared_keyd(a);
  keyd::KeydConnection back = connect_when_ready(a);
  EXPECT_EQ(key_states(back, "project:demo"), on_b_now);
  EXPECT_EQ(jwks_of(back, "project:demo"), jwks_of(admin_b, "project:demo"));
}

}  // namespace
}  // namespace orbitnest::test
