#include "keyd/server/request_handler.h"

#include <boost/json.hpp>
#include <chrono>

#include "config/version.h"
#include "keyd/audit/audit_log.h"
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

std::string keys_json(const std::vector<KeyInfo>& keys) {
  boost::json::array out;
  for (const KeyInfo& k : keys) {
    out.push_back(boost::json::object{{"keyring", k.keyring},
                                      {"version", k.key.version},
                                      {"kid", k.key.kid},
                                      {"alg", k.algorithm},
                                      {"state", key_state_name(k.key.state)},
                                      {"created", k.key.created},
                                      {"promoted", k.key.promoted},
                                      {"demoted", k.key.demoted},
                                      {"retired", k.key.retired},
                                      {"retires_at", k.retires_at},
                                      {"signatures", k.signatures}});
  }
  return boost::json::serialize(out);
}

AuditEvent event_for(const ConnectionState& conn, const OpInfo& op) {
  AuditEvent e;
  e.op = std::string(op.name);
  e.peer = conn.peer;
  e.peer_command = conn.peer_command;
  return e;
}

bool administrative(Op op) { return op == Op::rotate || op == Op::ensure_keyring; }

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
    log::warning("keyd.op_refused", {{"op", op->name}, {"uid", static_cast<unsigned long>(conn.peer.uid)}});
    const KeydState::Snapshot s = m_state.snapshot();
    if (s.services.audit != nullptr) {
      AuditEvent e = event_for(conn, *op);
      e.event = "op_refused";
      e.result = "forbidden";
      try {
        s.services.audit->append(e);
      } catch (const std::exception&) {
        // The refusal stands either way.
      }
    }
    return error(req, Status::forbidden, "operation not allowed for this peer", true);
  }
  if (op->op != Op::hello && !conn.hello_done) {
    return error(req, Status::hello_required, "send hello first", true);
  }
  try {
    return dispatch(req, *op, conn);
  } catch (const FrameError& e) {
    return error(req, Status::bad_request, e.what(), false);
  }
}

HandlerResult RequestHandler::dispatch(const Frame& req, const OpInfo& op, ConnectionState& conn) const {
  FieldReader in(req);
  if (op.op == Op::hello) {
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
  const KeydState::Snapshot s = m_state.snapshot();
  if (op.op == Op::status) {
    in.expect_end();
    return reply(req, s.ready ? Status::ok : Status::not_ready, {s.detail, s.token_label}, false);
  }
  if (!s.ready || s.services.keyrings == nullptr) {
    return error(req, Status::not_ready, "keyd is not ready: " + s.detail, false);
  }
  KeyringStore& keyrings = *s.services.keyrings;
  SecretVault& vault = *s.services.vault;
  try {
    switch (op.op) {
      case Op::sign_jwt: {
        const std::string keyring(in.bytes());
        const std::string claims(in.bytes());
        in.expect_end();
        return reply(req, Status::ok, {keyrings.sign_jwt(keyring, claims)}, false);
      }
      case Op::jwks: {
        const std::string keyring(in.bytes());
        in.expect_end();
        return reply(req, Status::ok, {keyrings.jwks(keyring)}, false);
      }
      case Op::seal: {
        const std::string_view purpose = in.bytes();
        const std::string_view aad = in.bytes();
        const std::string_view plaintext = in.bytes();
        in.expect_end();
        return reply(req, Status::ok, {vault.seal(purpose, aad, plaintext)}, false);
      }
      case Op::unseal: {
        const std::string_view purpose = in.bytes();
        const std::string_view aad = in.bytes();
        const std::string_view blob = in.bytes();
        in.expect_end();
        return reply(req, Status::ok, {vault.unseal(purpose, aad, blob)}, false);
      }
      case Op::totp_enroll: {
        const std::string_view aad = in.bytes();
        const std::string_view issuer = in.bytes();
        const std::string_view account = in.bytes();
        in.expect_end();
        const TotpEnrollment e = vault.totp_enroll(aad, issuer, account);
        return reply(req, Status::ok, {e.otpauth_uri, e.sealed_seed}, false);
      }
      case Op::totp_verify: {
        const std::string_view blob = in.bytes();
        const std::string_view aad = in.bytes();
        const std::string_view code = in.bytes();
        const std::uint64_t last_step = in.u64();
        in.expect_end();
        // The time is keyd's own: a peer cannot pick the step a code is for.
        const std::optional<std::uint64_t> step = vault.totp_verify(blob, aad, code, last_step);
        return reply(req, Status::ok, {encode_u8(step ? 1 : 0), encode_u64(step.value_or(0))}, false);
      }
      case Op::mac: {
        const std::string_view purpose = in.bytes();
        const std::string_view data = in.bytes();
        const std::uint32_t version = in.u32();
        in.expect_end();
        const MacResult m =
            vault.mac(purpose, data, version == 0 ? std::nullopt : std::optional<int>(static_cast<int>(version)));
        return reply(req, Status::ok, {encode_u32(static_cast<std::uint32_t>(m.version)), m.mac}, false);
      }
      case Op::ensure_keyring: {
        const std::string ref(in.bytes());
        in.expect_end();
        const std::string issuer = keyrings.ensure_project_keyring(ref, event_for(conn, op));
        return reply(req, Status::ok, {"project:" + ref, issuer}, false);
      }
      case Op::rotate: {
        const std::string keyring(in.bytes());
        const bool force = in.u8() != 0;
        in.expect_end();
        return reply(req, Status::ok, {keys_json(keyrings.rotate(keyring, force, event_for(conn, op)))}, false);
      }
      case Op::list_keys: {
        const std::string keyring(in.bytes());
        in.expect_end();
        return reply(req, Status::ok, {keys_json(keyrings.list(keyring))}, false);
      }
      case Op::audit_head: {
        in.expect_end();
        return reply(req, Status::ok, {encode_u64(s.services.audit->head_seq()), s.services.audit->head_hash()},
                     false);
      }
      case Op::audit_pubkey: {
        in.expect_end();
        return reply(req, Status::ok, {keyrings.audit_public_key_pem()}, false);
      }
      case Op::hello:
      case Op::status:
        break;
    }
  } catch (const KeyringRefused& e) {
    if (administrative(op.op)) {
      AuditEvent ev = event_for(conn, op);
      ev.event = "op_failed";
      ev.result = std::string("refused: ") + e.what();
      try {
        s.services.audit->append(ev);
      } catch (const std::exception&) {
      }
    }
    return error(req, Status::bad_request, e.what(), false);
  } catch (const VaultRefused& e) {
    return error(req, Status::bad_request, e.what(), false);
  } catch (const AuditWriteFailed& e) {
    log::error("keyd.audit_write_failed", {{"op", op.name}, {"reason", e.what()}});
    return error(req, Status::internal, "the audit log cannot be written: operation refused", false);
  } catch (const p11::Pkcs11Error& e) {
    log::error("keyd.hsm_error", {{"op", op.name}, {"reason", e.what()}});
    return error(req, Status::hsm_error, e.what(), false);
  } catch (const FrameError&) {
    throw;
  } catch (const std::exception& e) {
    log::error("keyd.op_failed", {{"op", op.name}, {"reason", e.what()}});
    return error(req, Status::internal, "internal error", false);
  }
  return error(req, Status::internal, "unhandled operation", true);
}

}  // namespace orbitnest::keyd
