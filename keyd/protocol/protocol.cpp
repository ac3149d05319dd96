#include "keyd/protocol/protocol.h"

namespace orbitnest::keyd {

std::string_view status_name(Status s) {
  switch (s) {
    case Status::ok: return "ok";
    case Status::bad_frame: return "bad_frame";
    case Status::unknown_op: return "unknown_op";
    case Status::unsupported_version: return "unsupported_version";
    case Status::forbidden: return "forbidden";
    case Status::not_ready: return "not_ready";
    case Status::internal: return "internal";
    case Status::hsm_error: return "hsm_error";
    case Status::bad_request: return "bad_request";
    case Status::hello_required: return "hello_required";
  }
  return "unknown_status";
}

std::string_view op_name(Op op) {
  switch (op) {
    case Op::hello: return "hello";
    case Op::status: return "status";
    case Op::sign_jwt: return "sign_jwt";
    case Op::jwks: return "jwks";
    case Op::seal: return "seal";
    case Op::unseal: return "unseal";
    case Op::totp_enroll: return "totp_enroll";
    case Op::totp_verify: return "totp_verify";
    case Op::mac: return "mac";
    case Op::ensure_keyring: return "ensure_keyring";
    case Op::rotate: return "rotate";
    case Op::list_keys: return "list_keys";
    case Op::audit_head: return "audit_head";
    case Op::audit_pubkey: return "audit_pubkey";
    case Op::rotate_by_admin: return "rotate_by_admin";
    case Op::stats: return "stats";
  }
  return "unknown";
}

}  // namespace orbitnest::keyd
