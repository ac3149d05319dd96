#pragma once
// The keyd socket protocol: version, operations, status codes and limits.
// PROTOCOL.md in keyd/ is the prose version of this file; who may call
// what is keyd/server/op_table.cpp. Operation numbers are append-only:
// never reused.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace orbitnest::keyd {

inline constexpr std::uint8_t kProtocolVersion = 1;
// Hard limit for one frame (one SOCK_SEQPACKET message), header included.
inline constexpr std::size_t kMaxFrameBytes = 64 * 1024;
inline constexpr std::size_t kHeaderBytes = 12;
// No single field may exceed this; keeps every allocation bounded.
inline constexpr std::size_t kMaxFieldBytes = kMaxFrameBytes - kHeaderBytes - 4;
inline constexpr std::size_t kMaxFields = 16;

enum class FrameKind : std::uint8_t { request = 0, response = 1 };

// Who may call an operation (checked against SO_PEERCRED on every request).
enum class PeerClass : std::uint8_t { authd, operator_ };

enum class Op : std::uint16_t {
  hello = 1,   // [u16 protocol version] -> [u16 version][keyd version string]
  status = 2,  // [] -> [state][token label]
  // authd's operations
  sign_jwt = 16,        // [keyring][claims JSON] -> [compact JWS]
  jwks = 17,            // [keyring] -> [JWKS JSON]
  seal = 18,            // [purpose][aad][plaintext] -> [blob]
  unseal = 19,          // [purpose][aad][blob] -> [plaintext]
  totp_enroll = 20,     // [aad][issuer][account] -> [otpauth URI][blob]
  totp_verify = 21,     // [blob][aad][code][u64 last used step] -> [u8 ok][u64 step] (keyd's clock)
  mac = 22,             // [purpose][data][u32 version, 0 = current] -> [u32 version][mac]
  ensure_keyring = 23,  // [project ref] -> [keyring name][issuer]
  // operators' operations
  rotate = 64,        // [keyring][u8 force] -> [JSON: keys after rotation]
  list_keys = 65,     // [keyring or empty] -> [JSON: keys]
  audit_head = 66,    // [] -> [u64 seq][hash hex]
  audit_pubkey = 67,  // [] -> [PEM]
  // authd's, appended after the operators' block (numbers are append-only)
  rotate_by_admin = 68,  // [admin access token][keyring] -> [JSON: keys after rotation][actor]
  stats = 69,            // [] -> [JSON: every key with its signatures and rotation time; ops served and failed]
};

// The op's name ("sign_jwt"), for logs and metrics; "unknown" if none.
std::string_view op_name(Op op);

enum class Status : std::uint16_t {
  ok = 0,
  bad_frame = 1,            // malformed frame: connection is closed
  unknown_op = 2,           // connection is kept
  unsupported_version = 3,  // connection is closed
  forbidden = 4,            // peer not allowed this op: connection is closed
  not_ready = 5,            // keyd is up but cannot serve yet (no HSM login)
  internal = 6,
  hsm_error = 7,
  bad_request = 8,  // well-formed frame, invalid arguments: connection kept
  hello_required = 9,
};

std::string_view status_name(Status s);

}  // namespace orbitnest::keyd
