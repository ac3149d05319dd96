#include "keyd/keyring/jwt_signer.h"

#include <algorithm>
#include <boost/json.hpp>
#include <iterator>
#include <vector>

#include "keyd/keyring/base64url.h"
#include "keyd/pkcs11/signing_key.h"

namespace orbitnest::keyd {
namespace {

bool is_project_role(const std::string& role) {
  return std::find(std::begin(config::kProjectRoles), std::end(config::kProjectRoles), role) !=
         std::end(config::kProjectRoles);
}

}  // namespace

ClaimsPolicy JwtSigner::policy_for(const Keyring& ring) const {
  const config::KeydKeyringsConfig& k = m_cfg.keyrings;
  switch (keyring_kind(ring)) {
    case KeyringKind::admin:
      return ClaimsPolicy{ring.issuer, k.admin.audiences, k.admin.roles, k.max_token_lifetime_seconds,
                          k.clock_skew_seconds};
    case KeyringKind::project: {
      // An allowlist: config load refuses other project roles already;
      // this keeps the rule where the signature is made.
      std::vector<std::string> roles;
      std::copy_if(k.project.roles.begin(), k.project.roles.end(), std::back_inserter(roles), is_project_role);
      return ClaimsPolicy{ring.issuer, k.project.audiences, std::move(roles), k.max_token_lifetime_seconds,
                          k.clock_skew_seconds};
    }
  }
  throw std::logic_error("unknown keyring kind");
}

std::string JwtSigner::sign(const std::string& keyring, const std::string& claims_json) {
  struct Current {
    ClaimsPolicy policy;
    p11::Algorithm alg;
    std::string kid;
    std::string label;
  };
  m_registry.look_for(keyring);
  const Current c = m_registry.read([&](const KeydStateFile& state) {
    const Keyring& ring = keyring_named(state, keyring);
    const KeyVersion* current = ring.find(KeyState::current);
    return Current{policy_for(ring), ring.algorithm, current->kid, version_label(keyring, *current)};
  });
  const std::int64_t now = now_seconds();
  std::string payload;
  try {
    payload = check_claims(claims_json, c.policy, now);
  } catch (const ClaimsRejected& e) {
    throw KeyringRefused(std::string("claims refused: ") + e.what());
  }
  const boost::json::object header{{"alg", p11::algorithm_info(c.alg).jose_name}, {"kid", c.kid}, {"typ", "JWT"}};
  const std::string signing_input =
      base64url_encode(boost::json::serialize(header)) + "." + base64url_encode(payload);
  const CK_OBJECT_HANDLE key = m_handles.find(CKO_PRIVATE_KEY, c.label);
  const std::string sig =
      m_token.with_session([&](p11::Session& s) { return p11::sign_message(s, c.alg, key, signing_input); });
  m_counter.record(c.kid, now);
  return signing_input + "." + base64url_encode(sig);
}

}  // namespace orbitnest::keyd
