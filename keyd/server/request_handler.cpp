#include "keyd/server/request_handler.h"

#include "keyd/server/op_counters.h"
#include "keyd/keyring/keyring_store.h"
#include "keyd/pkcs11/pkcs11_error.h"
#include "keyd/secrets/secret_vault.h"
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

AuditEvent event_for(const ConnectionState& conn, const OpRow& row) {
  AuditEvent e;
  e.op = std::string(row.name);
  e.peer = conn.peer;
  e.peer_command = conn.peer_command;
  return e;
}

// Best effort: the answer to the peer stands whether or not this record is
// written (an administrative op's own record is fail-closed, in its store).
void audit(const KeydState::Snapshot& s, AuditEvent e, std::string event, std::string result) {
  if (s.services.audit == nullptr) {
    return;
  }
  e.event = std::move(event);
  e.result = std::move(result);
  try {
    s.services.audit->append(e);
  } catch (const std::exception& ex) {
    log::error("keyd.audit_write_failed", {{"op", e.op}, {"reason", ex.what()}});
  }
}

struct Failure {
  Status status;
  std::string message;  // for the peer: never a secret
  bool close = false;
};

// What a handler's exception means on the wire.
Failure classify(const std::exception& e, const OpRow& row) {
  if (const auto* r = dynamic_cast<const ProtocolRefusal*>(&e)) {
    return {r->status(), r->what(), r->close()};
  }
  if (dynamic_cast<const FrameError*>(&e) != nullptr || dynamic_cast<const KeyringRefused*>(&e) != nullptr ||
      dynamic_cast<const VaultRefused*>(&e) != nullptr) {
    return {Status::bad_request, e.what()};
  }
  if (dynamic_cast<const AuditWriteFailed*>(&e) != nullptr) {
    log::error("keyd.audit_write_failed", {{"op", row.name}, {"reason", e.what()}});
    return {Status::internal, "the audit log cannot be written: operation refused"};
  }
  if (dynamic_cast<const p11::Pkcs11Error*>(&e) != nullptr) {
    log::error("keyd.hsm_error", {{"op", row.name}, {"reason", e.what()}});
    return {Status::hsm_error, e.what()};
  }
  log::error("keyd.op_failed", {{"op", row.name}, {"reason", e.what()}});
  return {Status::internal, "internal error"};
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
  const OpRow* row = find_op_row(req.op);
  if (row == nullptr) {
    return error(req, Status::unknown_op, "unknown operation " + std::to_string(req.op), false);
  }
  return dispatch(req, *row, conn);
}

// Enforces the row, runs its handler, audits an audited op's failure
// whatever was thrown.
HandlerResult RequestHandler::dispatch(const Frame& req, const OpRow& row, ConnectionState& conn) const {
  const KeydState::Snapshot s = m_state.snapshot();
  const AuditEvent requested_by = event_for(conn, row);
  if (!row.permits(conn.rights)) {
    log::warning("keyd.op_refused", {{"op", row.name}, {"uid", static_cast<unsigned long>(conn.peer.uid)}});
    audit(s, requested_by, "op_refused", "forbidden");
    return error(req, Status::forbidden, "operation not allowed for this peer", true);
  }
  if (row.has(op_flag::needs_hello) && !conn.hello_done) {
    return error(req, Status::hello_required, "send hello first", true);
  }
  const bool served = s.ready && s.services.keyrings != nullptr && s.services.vault != nullptr &&
                      (s.services.audit != nullptr || !row.has(op_flag::administrative));
  if (row.has(op_flag::needs_ready) && !served) {
    return error(req, Status::not_ready, "keyd is not ready: " + s.detail, false);
  }
  try {
    OpAnswer a = row.handler(OpCall{req.fields, conn, s, requested_by});
    op_counters().record(row, a.status == Status::ok);
    return reply(req, a.status, std::move(a.fields), false);
  } catch (const std::exception& e) {
    op_counters().record(row, false);
    const Failure f = classify(e, row);
    if (row.has(op_flag::audited)) {
      audit(s, requested_by, "op_failed", std::string(status_name(f.status)) + ": " + e.what());
    }
    return error(req, f.status, f.message, f.close);
  } catch (...) {
    op_counters().record(row, false);
    // Nothing keyd throws is outside std::exception, but a library might:
    // the op still fails closed and an audited one is still recorded.
    log::error("keyd.op_failed", {{"op", row.name}, {"reason", "not a std::exception"}});
    if (row.has(op_flag::audited)) {
      audit(s, requested_by, "op_failed", "internal: an exception that is not a std::exception");
    }
    return error(req, Status::internal, "internal error", false);  // as classify() answers any other failure
  }
}

}  // namespace orbitnest::keyd
