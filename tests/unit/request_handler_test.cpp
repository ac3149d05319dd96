// keyd's dispatch: handshake first, fixed operation table, per-peer rights,
// and which errors close the connection.
#include <gtest/gtest.h>

#include "keyd/server/request_handler.h"

namespace orbitnest::keyd {
namespace {

class RequestHandlerTest : public ::testing::Test {
 protected:
  Frame call(std::uint16_t op, std::vector<std::string> fields, HandlerResult* out = nullptr) {
    Frame req;
    req.op = op;
    req.request_id = ++id;
    req.fields = std::move(fields);
    HandlerResult r = handler.handle(encode_frame(req), conn);
    if (out != nullptr) {
      *out = r;
    }
    last_closed = r.close_connection;
    Frame resp = decode_frame(r.response);
    EXPECT_EQ(resp.kind, FrameKind::response);
    return resp;
  }
  Frame hello() { return call(static_cast<std::uint16_t>(Op::hello), {encode_u16(kProtocolVersion)}); }

  KeydState state;
  RequestHandler handler{state};
  ConnectionState conn{PeerRights{true, false}, false, {}, "test"};
  std::uint32_t id = 0;
  bool last_closed = false;
};

TEST_F(RequestHandlerTest, HelloThenStatus) {
  const Frame h = hello();
  EXPECT_EQ(h.status, Status::ok);
  EXPECT_EQ(h.request_id, id);
  EXPECT_FALSE(last_closed);
  EXPECT_TRUE(conn.hello_done);
  EXPECT_EQ(call(static_cast<std::uint16_t>(Op::status), {}).status, Status::not_ready);
  state.set(true, "ok", "tok");
  const Frame s = call(static_cast<std::uint16_t>(Op::status), {});
  EXPECT_EQ(s.status, Status::ok);
  EXPECT_EQ(s.fields, (std::vector<std::string>{"ok", "tok"}));
}

TEST_F(RequestHandlerTest, OperationsBeforeHelloCloseTheConnection) {
  EXPECT_EQ(call(static_cast<std::uint16_t>(Op::status), {}).status, Status::hello_required);
  EXPECT_TRUE(last_closed);
}

TEST_F(RequestHandlerTest, WrongVersionIsRefusedAndCloses) {
  EXPECT_EQ(call(static_cast<std::uint16_t>(Op::hello), {encode_u16(99)}).status, Status::unsupported_version);
  EXPECT_TRUE(last_closed);
  EXPECT_FALSE(conn.hello_done);
}

TEST_F(RequestHandlerTest, UnknownOpKeepsTheConnection) {
  hello();
  EXPECT_EQ(call(999, {}).status, Status::unknown_op);
  EXPECT_FALSE(last_closed);
}

TEST_F(RequestHandlerTest, TrailingFieldsAreABadRequest) {
  hello();
  EXPECT_EQ(call(static_cast<std::uint16_t>(Op::status), {"extra"}).status, Status::bad_request);
  EXPECT_FALSE(last_closed);
}

TEST_F(RequestHandlerTest, PeerWithoutRightsIsRefused) {
  conn.rights = PeerRights{false, false};
  EXPECT_EQ(hello().status, Status::forbidden);
  EXPECT_TRUE(last_closed);
}

TEST_F(RequestHandlerTest, GarbageIsABadFrameAndCloses) {
  const std::vector<std::uint8_t> junk = {1, 2, 3};
  const HandlerResult r = handler.handle(junk, conn);
  EXPECT_TRUE(r.close_connection);
  EXPECT_EQ(decode_frame(r.response).status, Status::bad_frame);
}

TEST(PeerPolicy, RightsFollowUidAndGroups) {
  const PeerPolicy policy(1001, 2000);
  EXPECT_TRUE(policy.rights({1, 1001, 1001, {}}).authd);
  EXPECT_FALSE(policy.rights({1, 1001, 1001, {}}).operator_);
  EXPECT_TRUE(policy.rights({1, 0, 0, {}}).operator_);
  EXPECT_TRUE(policy.rights({1, 1500, 1500, {2000}}).operator_);
  EXPECT_FALSE(policy.rights({1, 1500, 1500, {1999}}).any());
}

}  // namespace
}  // namespace orbitnest::keyd
