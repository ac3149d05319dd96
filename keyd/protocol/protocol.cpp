#include "keyd/protocol/protocol.h"

#include <array>

namespace orbitnest::keyd {
namespace {

// name, authd may call, operators may call
constexpr std::array<OpInfo, 14> kOps = {{
    {Op::hello, "hello", true, true},
    {Op::status, "status", true, true},
    {Op::sign_jwt, "sign_jwt", true, false},
    {Op::jwks, "jwks", true, true},
    {Op::seal, "seal", true, false},
    {Op::unseal, "unseal", true, false},
    {Op::totp_enroll, "totp_enroll", true, false},
    {Op::totp_verify, "totp_verify", true, false},
    {Op::mac, "mac", true, false},
    {Op::ensure_keyring, "ensure_keyring", true, false},
    {Op::rotate, "rotate", false, true},
    {Op::list_keys, "list_keys", false, true},
    {Op::audit_head, "audit_head", false, true},
    {Op::audit_pubkey, "audit_pubkey", false, true},
}};

}  // namespace

std::optional<OpInfo> find_op(std::uint16_t raw) {
  for (const OpInfo& info : kOps) {
    if (static_cast<std::uint16_t>(info.op) == raw) {
      return info;
    }
  }
  return std::nullopt;
}

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

}  // namespace orbitnest::keyd
