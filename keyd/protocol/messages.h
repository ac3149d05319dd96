#pragma once
// One request/answer pair per operation, shared by keyd's handlers and the
// client (OpenSSH's mm_* request beside its mm_answer_*): neither side
// builds or reads a field vector by hand. Each struct names its members in
// wire order once (members()); encode_fields/decode_fields do the rest and
// decode strictly (a missing, short or trailing field is a FrameError).
// The wire format is PROTOCOL.md's, unchanged.
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "keyd/protocol/frame.h"

namespace orbitnest::keyd {

struct Empty {
  template <class Self> static auto members(Self&) { return std::tie(); }
};

struct HelloAnswer {
  std::uint16_t version = 0;
  std::string keyd_version;
  template <class Self> static auto members(Self& s) { return std::tie(s.version, s.keyd_version); }
};
struct HelloRequest {
  static constexpr Op kOp = Op::hello;
  using Answer = HelloAnswer;
  std::uint16_t version = kProtocolVersion;
  template <class Self> static auto members(Self& s) { return std::tie(s.version); }
};

// Answered with status ok or not_ready; both carry these fields.
struct StatusAnswer {
  std::string detail;  // "ok" or why keyd is not ready
  std::string token_label;
  template <class Self> static auto members(Self& s) { return std::tie(s.detail, s.token_label); }
};
struct StatusRequest : Empty {
  static constexpr Op kOp = Op::status;
  using Answer = StatusAnswer;
};

struct SignJwtAnswer {
  std::string jws;
  template <class Self> static auto members(Self& s) { return std::tie(s.jws); }
};
struct SignJwtRequest {
  static constexpr Op kOp = Op::sign_jwt;
  using Answer = SignJwtAnswer;
  std::string keyring;
  std::string claims;  // one JSON object
  template <class Self> static auto members(Self& s) { return std::tie(s.keyring, s.claims); }
};

struct JwksAnswer {
  std::string jwks;  // JSON
  template <class Self> static auto members(Self& s) { return std::tie(s.jwks); }
};
struct JwksRequest {
  static constexpr Op kOp = Op::jwks;
  using Answer = JwksAnswer;
  std::string keyring;
  template <class Self> static auto members(Self& s) { return std::tie(s.keyring); }
};

struct SealAnswer {
  std::string blob;
  template <class Self> static auto members(Self& s) { return std::tie(s.blob); }
};
struct SealRequest {
  static constexpr Op kOp = Op::seal;
  using Answer = SealAnswer;
  std::string purpose;
  std::string aad;
  std::string plaintext;
  template <class Self> static auto members(Self& s) { return std::tie(s.purpose, s.aad, s.plaintext); }
};

struct UnsealAnswer {
  std::string plaintext;
  template <class Self> static auto members(Self& s) { return std::tie(s.plaintext); }
};
struct UnsealRequest {
  static constexpr Op kOp = Op::unseal;
  using Answer = UnsealAnswer;
  std::string purpose;
  std::string aad;
  std::string blob;
  template <class Self> static auto members(Self& s) { return std::tie(s.purpose, s.aad, s.blob); }
};

struct TotpEnrollAnswer {
  std::string otpauth_uri;
  std::string sealed_seed;
  template <class Self> static auto members(Self& s) { return std::tie(s.otpauth_uri, s.sealed_seed); }
};
struct TotpEnrollRequest {
  static constexpr Op kOp = Op::totp_enroll;
  using Answer = TotpEnrollAnswer;
  std::string aad;
  std::string issuer;
  std::string account;
  template <class Self> static auto members(Self& s) { return std::tie(s.aad, s.issuer, s.account); }
};

struct TotpVerifyAnswer {
  bool ok = false;
  std::uint64_t step = 0;  // the step the code matched (keyd's clock)
  template <class Self> static auto members(Self& s) { return std::tie(s.ok, s.step); }
};
struct TotpVerifyRequest {
  static constexpr Op kOp = Op::totp_verify;
  using Answer = TotpVerifyAnswer;
  std::string blob;
  std::string aad;
  std::string code;
  std::uint64_t last_used_step = 0;
  template <class Self> static auto members(Self& s) { return std::tie(s.blob, s.aad, s.code, s.last_used_step); }
};

struct MacAnswer {
  std::uint32_t version = 0;
  std::string mac;  // 32 bytes
  template <class Self> static auto members(Self& s) { return std::tie(s.version, s.mac); }
};
struct MacRequest {
  static constexpr Op kOp = Op::mac;
  using Answer = MacAnswer;
  std::string purpose;
  std::string data;
  std::uint32_t version = 0;  // 0 = the current pepper
  template <class Self> static auto members(Self& s) { return std::tie(s.purpose, s.data, s.version); }
};

struct EnsureKeyringAnswer {
  std::string keyring;  // "project:<ref>"
  std::string issuer;
  template <class Self> static auto members(Self& s) { return std::tie(s.keyring, s.issuer); }
};
struct EnsureKeyringRequest {
  static constexpr Op kOp = Op::ensure_keyring;
  using Answer = EnsureKeyringAnswer;
  std::string ref;
  template <class Self> static auto members(Self& s) { return std::tie(s.ref); }
};

struct KeysAnswer {
  std::string keys;  // JSON array, one object per key
  template <class Self> static auto members(Self& s) { return std::tie(s.keys); }
};
struct RotateRequest {
  static constexpr Op kOp = Op::rotate;
  using Answer = KeysAnswer;
  std::string keyring;
  bool force = false;
  template <class Self> static auto members(Self& s) { return std::tie(s.keyring, s.force); }
};
// An admin's rotation, asked by authd: keyd verifies the admin's access
// token itself (admin keyring, short-lived) and audits the rotation in the
// admin's name. No force: rotation.min_prepublish_seconds always holds.
struct RotateByAdminAnswer {
  std::string keys;   // JSON array, as KeysAnswer
  std::string actor;  // "admin:<sub>", as keyd recorded it
  template <class Self> static auto members(Self& s) { return std::tie(s.keys, s.actor); }
};
struct RotateByAdminRequest {
  static constexpr Op kOp = Op::rotate_by_admin;
  using Answer = RotateByAdminAnswer;
  std::string admin_token;  // compact JWS signed with the admin keyring
  std::string keyring;
  template <class Self> static auto members(Self& s) { return std::tie(s.admin_token, s.keyring); }
};
// keyd's counters for authd's metrics (keyd has no network of its own):
// {"keys": [as list_keys, plus rotates_at], "ops": [{"op", "calls", "failures"}]}.
struct StatsAnswer {
  std::string json;
  template <class Self> static auto members(Self& s) { return std::tie(s.json); }
};
struct StatsRequest : Empty {
  static constexpr Op kOp = Op::stats;
  using Answer = StatsAnswer;
};
struct ListKeysRequest {
  static constexpr Op kOp = Op::list_keys;
  using Answer = KeysAnswer;
  std::string keyring;  // empty: every keyring
  template <class Self> static auto members(Self& s) { return std::tie(s.keyring); }
};

struct AuditHeadAnswer {
  std::uint64_t seq = 0;
  std::string hash;  // hex
  template <class Self> static auto members(Self& s) { return std::tie(s.seq, s.hash); }
};
struct AuditHeadRequest : Empty {
  static constexpr Op kOp = Op::audit_head;
  using Answer = AuditHeadAnswer;
};

struct AuditPubkeyAnswer {
  std::string pem;
  template <class Self> static auto members(Self& s) { return std::tie(s.pem); }
};
struct AuditPubkeyRequest : Empty {
  static constexpr Op kOp = Op::audit_pubkey;
  using Answer = AuditPubkeyAnswer;
};

// One field per member, in order: strings as they are, integers
// big-endian at their width, bool as u8 0/1.
namespace wire {
inline void put(std::vector<std::string>& out, const std::string& v) { out.push_back(v); }
inline void put(std::vector<std::string>& out, bool v) { out.push_back(encode_u8(v ? 1 : 0)); }
inline void put(std::vector<std::string>& out, std::uint16_t v) { out.push_back(encode_u16(v)); }
inline void put(std::vector<std::string>& out, std::uint32_t v) { out.push_back(encode_u32(v)); }
inline void put(std::vector<std::string>& out, std::uint64_t v) { out.push_back(encode_u64(v)); }
inline void take(FieldReader& in, std::string& v) { v = std::string(in.bytes()); }
inline void take(FieldReader& in, bool& v) { v = in.u8() != 0; }
inline void take(FieldReader& in, std::uint16_t& v) { v = in.u16(); }
inline void take(FieldReader& in, std::uint32_t& v) { v = in.u32(); }
inline void take(FieldReader& in, std::uint64_t& v) { v = in.u64(); }
}  // namespace wire

template <class Message>
std::vector<std::string> encode_fields(const Message& m) {
  std::vector<std::string> out;
  std::apply([&out](const auto&... v) { (wire::put(out, v), ...); }, Message::members(m));
  return out;
}

// Throws FrameError for a missing, malformed or trailing field.
template <class Message>
Message decode_fields(const std::vector<std::string>& fields) {
  Message m;
  FieldReader in(fields);
  std::apply([&in](auto&... v) { (wire::take(in, v), ...); }, Message::members(m));
  in.expect_end();
  return m;
}

}  // namespace orbitnest::keyd
