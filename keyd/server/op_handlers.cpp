#include "keyd/server/op_handlers.h"
#include "keyd/server/op_counters.h"

#include <boost/json.hpp>

#include "config/version.h"
#include "keyd/keyring/keyring_store.h"
#include "keyd/secrets/secret_vault.h"

namespace orbitnest::keyd::handlers {
namespace {

// The services exist for every needs_ready row; the dispatcher checked.
KeyringStore& keyrings(const OpCall& call) { return *call.keyd.services.keyrings; }
SecretVault& vault(const OpCall& call) { return *call.keyd.services.vault; }
AuditLog& audit(const OpCall& call) { return *call.keyd.services.audit; }

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
                                      {"rotates_at", k.rotates_at},
                                      {"signatures", k.signatures}});
  }
  return boost::json::serialize(out);
}

}  // namespace

OpAnswer hello(const OpCall& call) {
  const auto r = call.request<HelloRequest>();
  if (r.version != kProtocolVersion) {
    throw ProtocolRefusal(Status::unsupported_version,
                          "client speaks version " + std::to_string(r.version) + ", keyd speaks " +
                              std::to_string(kProtocolVersion),
                          true);
  }
  call.conn.hello_done = true;
  return answer(HelloAnswer{kProtocolVersion, std::string(orbitnest::kVersion)});
}

OpAnswer status(const OpCall& call) {
  call.request<StatusRequest>();
  return answer(StatusAnswer{call.keyd.detail, call.keyd.token_label},
                call.keyd.ready ? Status::ok : Status::not_ready);
}

OpAnswer sign_jwt(const OpCall& call) {
  const auto r = call.request<SignJwtRequest>();
  return answer(SignJwtAnswer{keyrings(call).signer().sign(r.keyring, r.claims)});
}

OpAnswer jwks(const OpCall& call) {
  const auto r = call.request<JwksRequest>();
  return answer(JwksAnswer{keyrings(call).jwks().jwks(r.keyring)});
}

OpAnswer seal(const OpCall& call) {
  const auto r = call.request<SealRequest>();
  return answer(SealAnswer{vault(call).seal(r.purpose, r.aad, r.plaintext)});
}

OpAnswer unseal(const OpCall& call) {
  const auto r = call.request<UnsealRequest>();
  return answer(UnsealAnswer{vault(call).unseal(r.purpose, r.aad, r.blob)});
}

OpAnswer totp_enroll(const OpCall& call) {
  const auto r = call.request<TotpEnrollRequest>();
  const TotpEnrollment e = vault(call).totp_enroll(r.aad, r.issuer, r.account);
  return answer(TotpEnrollAnswer{e.otpauth_uri, e.sealed_seed});
}

OpAnswer totp_verify(const OpCall& call) {
  const auto r = call.request<TotpVerifyRequest>();
  // The time is keyd's own: a peer cannot pick the step a code is for.
  const std::optional<std::uint64_t> step = vault(call).totp_verify(r.blob, r.aad, r.code, r.last_used_step);
  return answer(TotpVerifyAnswer{step.has_value(), step.value_or(0)});
}

OpAnswer mac(const OpCall& call) {
  const auto r = call.request<MacRequest>();
  const std::optional<int> version =
      r.version == 0 ? std::nullopt : std::optional<int>(static_cast<int>(r.version));
  const MacResult m = vault(call).mac(r.purpose, r.data, version);
  return answer(MacAnswer{static_cast<std::uint32_t>(m.version), m.mac});
}

OpAnswer ensure_keyring(const OpCall& call) {
  const auto r = call.request<EnsureKeyringRequest>();
  const std::string issuer = keyrings(call).registry().ensure_project_keyring(r.ref, call.requested_by);
  return answer(EnsureKeyringAnswer{"project:" + r.ref, issuer});
}

OpAnswer rotate(const OpCall& call) {
  const auto r = call.request<RotateRequest>();
  return answer(KeysAnswer{keys_json(keyrings(call).rotator().rotate(r.keyring, r.force, call.requested_by))});
}

OpAnswer list_keys(const OpCall& call) {
  const auto r = call.request<ListKeysRequest>();
  return answer(KeysAnswer{keys_json(keyrings(call).listing().list(r.keyring))});
}

OpAnswer stats(const OpCall& call) {
  call.request<StatsRequest>();
  boost::json::array ops;
  for (const OpCounters::Reading& r : op_counters().read()) {
    ops.push_back(boost::json::object{{"op", r.name}, {"calls", r.calls}, {"failures", r.failures}});
  }
  boost::json::value keys = boost::json::parse(keys_json(keyrings(call).listing().list("")));
  return answer(StatsAnswer{boost::json::serialize(boost::json::object{{"keys", keys}, {"ops", ops}})});
}

OpAnswer audit_head(const OpCall& call) {
  call.request<AuditHeadRequest>();
  return answer(AuditHeadAnswer{audit(call).head_seq(), audit(call).head_hash()});
}

OpAnswer audit_pubkey(const OpCall& call) {
  call.request<AuditPubkeyRequest>();
  return answer(AuditPubkeyAnswer{keyrings(call).audit_signer().public_key_pem()});
}

// authd relays an admin's request; keyd believes the admin's token, not
// authd, and rotates with the operator op's own code (no force).
OpAnswer rotate_by_admin(const OpCall& call) {
  const auto r = call.request<RotateByAdminRequest>();
  const AdminIdentity admin = keyrings(call).admin_tokens().verify(r.admin_token, now_seconds());
  AuditEvent by = call.requested_by;  // authd's peer credentials, and the admin it spoke for
  by.detail["actor"] = admin.actor();
  if (!admin.session_id.empty()) {
    by.detail["session_id"] = admin.session_id;
  }
  const std::vector<KeyInfo> keys = keyrings(call).rotator().rotate(r.keyring, false, by);
  return answer(RotateByAdminAnswer{keys_json(keys), admin.actor()});
}

}  // namespace orbitnest::keyd::handlers
