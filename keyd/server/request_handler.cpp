#include "keyd/server/request_handler.h"

#include "config/version.h"
#include "systemd/log.h"

namespace orbitnest::keyd {
namespace {

HandlerResult reply(const Frame& req, Status status, std::vector<std::string> fields, bool close) {
  Frame resp;
  resp.kind = FrameKind::response;
  resp.op = req.op;
  resp.request_id = req.request_id;
  resp.status = status;
  resp.fields = std::move(fields);
  return HandlerResult{encode_frame(resp), close};
}

HandlerResult error(const Frame& req, Status status, std::string_view message, bool close) {
  return reply(req, status, {std::string(message)}, close);
}

}  // namespace

HandlerResult RequestHandler::handle(std::span<const std::uint8_t> bytes, ConnectionState& conn) const {
  Frame req;
  try {
    req = decode_frame(bytes);
  } catch (const FrameError& e) {
    log::warning("keyd.bad_frame", {{"reason", e.what()}});
    return error(Frame{}, Status::bad_frame, e.what(), true);
  }
  if (req.kind != FrameKind::request || req.status != Status::ok) {
    return error(req, Status::bad_frame, "expected a request frame", true);
  }
  if (req.version != kProtocolVersion) {
    return error(req, Status::unsupported_version, "protocol version " + std::to_string(kProtocolVersion) + " only",
                 true);
  }
  const std::optional<OpInfo> op = find_op(req.op);
  if (!op) {
    return error(req, Status::unknown_op, "unknown operation " + std::to_string(req.op), false);
  }
  if (!PeerPolicy::allows(conn.rights, *op)) {
    log::warning("keyd.op_refused", {{"op", op->name}});
    return error(req, Status::forbidden, "operation not allowed for this peer", true);
  }
  if (op->op != Op::hello && !conn.hello_done) {
    return error(req, Status::hello_required, "send hello first", true);
  }
  try {
    FieldReader in(req);
    switch (op->op) {
      case Op::hello: {
        const std::uint16_t version = in.u16();
        in.expect_end();
        if (version != kProtocolVersion) {
          return error(req, Status::unsupported_version,
                       "client speaks version " + std::to_string(version) + ", keyd speaks " +
                           std::to_string(kProtocolVersion),
                       true);
        }
        conn.hello_done = true;
        return reply(req, Status::ok, {encode_u16(kProtocolVersion), std::string(orbitnest::kVersion)}, false);
      }
      case Op::status: {
        in.expect_end();
        const KeydState::Snapshot s = m_state.snapshot();
        return reply(req, s.ready ? Status::ok : Status::not_ready, {s.detail, s.token_label}, false);
      }
    }
  } catch (const FrameError& e) {
    return error(req, Status::bad_request, e.what(), false);
  }
  return error(req, Status::internal, "unhandled operation", true);
}

}  // namespace orbitnest::keyd
