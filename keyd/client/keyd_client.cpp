#include "keyd/client/keyd_client.h"

#include "keyd/client/keyd_connection.h"

namespace orbitnest::keyd {

void KeydClient::throw_malformed(Op op, const std::string& problem) {
  throw KeydError(Status::bad_frame, "keyd's answer to operation " + std::to_string(static_cast<int>(op)) +
                                         " does not decode: " + problem);
}

KeydStatus KeydClient::status() {
  // not_ready is an answer here, not an error.
  const Frame f = m_transport.call(Op::status, encode_fields(StatusRequest{}), {Status::not_ready});
  const StatusAnswer a = decode_answer<StatusAnswer>(Op::status, f);
  return KeydStatus{f.status == Status::ok, a.detail, a.token_label};
}

std::string KeydClient::sign_jwt(const std::string& keyring, const std::string& claims_json) {
  return ask(SignJwtRequest{keyring, claims_json}).jws;
}

std::string KeydClient::jwks(const std::string& keyring) { return ask(JwksRequest{keyring}).jwks; }

std::string KeydClient::seal(const std::string& purpose, const std::string& aad, const std::string& plaintext) {
  return ask(SealRequest{purpose, aad, plaintext}).blob;
}

std::string KeydClient::unseal(const std::string& purpose, const std::string& aad, const std::string& blob) {
  return ask(UnsealRequest{purpose, aad, blob}).plaintext;
}

TotpEnrollAnswer KeydClient::totp_enroll(const std::string& aad, const std::string& issuer,
                                         const std::string& account) {
  return ask(TotpEnrollRequest{aad, issuer, account});
}

TotpVerifyAnswer KeydClient::totp_verify(const std::string& blob, const std::string& aad, const std::string& code,
                                         std::uint64_t last_used_step) {
  return ask(TotpVerifyRequest{blob, aad, code, last_used_step});
}

MacAnswer KeydClient::mac(const std::string& purpose, const std::string& data, std::uint32_t version) {
  return ask(MacRequest{purpose, data, version});
}

EnsureKeyringAnswer KeydClient::ensure_keyring(const std::string& ref) { return ask(EnsureKeyringRequest{ref}); }

std::string KeydClient::rotate(const std::string& keyring, bool force) {
  return ask(RotateRequest{keyring, force}).keys;
}

std::string KeydClient::list_keys(const std::string& keyring) { return ask(ListKeysRequest{keyring}).keys; }

AuditHeadAnswer KeydClient::audit_head() { return ask(AuditHeadRequest{}); }

std::string KeydClient::audit_pubkey() { return ask(AuditPubkeyRequest{}).pem; }

RotateByAdminAnswer KeydClient::rotate_by_admin(std::string_view admin_token, std::string_view keyring) {
  return ask(RotateByAdminRequest{std::string(admin_token), std::string(keyring)});
}

std::string KeydClient::stats() { return ask(StatsRequest{}).json; }

}  // namespace orbitnest::keyd
