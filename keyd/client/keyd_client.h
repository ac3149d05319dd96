#pragma once
// keyd's operations as typed calls (OpenSSH's mm_* beside the monitor's
// mm_answer_*): each sends the request struct keyd's handler decodes
// (keyd/protocol/messages.h) and decodes the answer struct it encodes, so
// no caller builds or reads a field vector. Errors as KeydConnection's.
#include <cstdint>
#include <string>
#include <string_view>

#include "keyd/client/keyd_transport.h"
#include "keyd/protocol/messages.h"

namespace orbitnest::keyd {

struct KeydStatus {
  bool ready = false;
  std::string detail;  // "ok" or why not
  std::string token_label;
};

class KeydClient final {
 public:
  explicit KeydClient(KeydTransport& transport) : m_transport(transport) {}

  // Any operation by its request struct.
  template <class Request>
  typename Request::Answer ask(const Request& request) {
    return decode_answer<typename Request::Answer>(Request::kOp, m_transport.call(Request::kOp, encode_fields(request)));
  }

  KeydStatus status();
  std::string sign_jwt(const std::string& keyring, const std::string& claims_json);
  std::string jwks(const std::string& keyring);
  std::string seal(const std::string& purpose, const std::string& aad, const std::string& plaintext);
  std::string unseal(const std::string& purpose, const std::string& aad, const std::string& blob);
  TotpEnrollAnswer totp_enroll(const std::string& aad, const std::string& issuer, const std::string& account);
  TotpVerifyAnswer totp_verify(const std::string& blob, const std::string& aad, const std::string& code,
                               std::uint64_t last_used_step);
  // version 0: the current pepper; the answer names the version used.
  MacAnswer mac(const std::string& purpose, const std::string& data, std::uint32_t version);
  EnsureKeyringAnswer ensure_keyring(const std::string& ref);
  std::string rotate(const std::string& keyring, bool force);  // JSON: the keys after rotation
  std::string list_keys(const std::string& keyring);           // JSON; "" = every keyring
  AuditHeadAnswer audit_head();
  std::string audit_pubkey();
  // An admin's rotation (authd only): keyd checks `admin_token` itself
  // (admin keyring, at most 15 minutes long) and audits in its sub's name.
  RotateByAdminAnswer rotate_by_admin(std::string_view admin_token, std::string_view keyring);
  // Counters for metrics: keys, their signatures and rotation times; ops.
  std::string stats();

 private:
  // A malformed answer is keyd speaking another protocol: KeydError.
  template <class Answer>
  static Answer decode_answer(Op op, const Frame& frame) {
    try {
      return decode_fields<Answer>(frame.fields);
    } catch (const FrameError& e) {
      throw_malformed(op, e.what());
    }
  }
  [[noreturn]] static void throw_malformed(Op op, const std::string& problem);

  KeydTransport& m_transport;
};

}  // namespace orbitnest::keyd
