// SO_PEERCRED: a uid that is neither authd's nor an operator is closed
// before keyd reads a byte, and audited; authd's uid gets authd's
// operations only; keyd stays up throughout.
#include <gtest/gtest.h>

#include "tests/support/as_user.h"
#include "tests/support/keyd_session.h"

namespace orbitnest::test {
namespace {

using keyd::Op;
using namespace std::chrono_literals;

TEST(KeydPeers, StrangerIsRefusedAndAudited) {
  Appliance a(false);
  KeydOptions o;
  o.socket_mode = "0666";  // let the stranger reach the socket: SO_PEERCRED must refuse it
  auto keyd = a.start_keyd({}, a.write_config("keyd.yaml", a.keyd_yaml(o)));
  connect_when_ready(a);
  const int code = as_user(kNobody, [&] {
    try {
      keyd::KeydConnection conn(a.keyd_socket(), 3000ms);
      return 1;  // the handshake must not succeed
    } catch (const keyd::KeydUnavailable&) {
      return 0;
    }
  });
  EXPECT_EQ(code, 0);
  EXPECT_TRUE(keyd->running());
  EXPECT_NE(read_file(a.dir.file("audit.log")).find("\"event\":\"peer_refused\",\"result\":\"refused\",\"peer\":{\"uid\":65534"),
            std::string::npos);
  EXPECT_NE(read_file(keyd->log_file()).find("keyd.peer_refused uid=65534"), std::string::npos);
  keyd::KeydConnection still(a.keyd_socket(), 3000ms);
  EXPECT_EQ(still.call(Op::status, {}).status, keyd::Status::ok);
}

TEST(KeydPeers, AuthdUidGetsAuthdOperationsOnly) {
  Appliance a(false);
  KeydOptions o;
  o.socket_mode = "0666";
  o.authd_user = "nobody";
  auto keyd = a.start_keyd({}, a.write_config("keyd.yaml", a.keyd_yaml(o)));
  connect_when_ready(a);
  const int code = as_user(kNobody, [&] {
    keyd::KeydConnection conn(a.keyd_socket(), 3000ms);
    conn.call(Op::ensure_keyring, {"demo"});
    conn.call(Op::sign_jwt, {"project:demo", project_claims("demo")});
    try {
      conn.call(Op::rotate, {"admin", keyd::encode_u8(0)});
      return 1;
    } catch (const keyd::KeydError& e) {
      return e.status() == keyd::Status::forbidden ? 0 : 2;
    }
  });
  EXPECT_EQ(code, 0);
  EXPECT_NE(read_file(a.dir.file("audit.log")).find("\"event\":\"op_refused\",\"op\":\"rotate\""), std::string::npos);
  // Root is an operator: it may rotate.
  keyd::KeydConnection root(a.keyd_socket(), 3000ms);
  EXPECT_NO_THROW(root.call(Op::rotate, {"admin", keyd::encode_u8(0)}));
}

}  // namespace
}  // namespace orbitnest::test
