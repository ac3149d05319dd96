#include "authd/stores/oauth_flow_store.h"

#include "authd/flows/session_issuer.h"
#include "authd/security/random.h"

namespace orbitnest::authd {
namespace {

constexpr std::size_t kMaxTokenBytes = 512;

}  // namespace

void OAuthFlowStore::begin(pqxx::transaction_base& tx, const std::string& state, const OAuthFlow& flow) const {
  tx.exec("DELETE FROM auth.oauth_flows WHERE state_hash IN (SELECT state_hash FROM auth.oauth_flows "
          "WHERE expires_at < now() LIMIT 100)");
  tx.exec_params("INSERT INTO auth.oauth_flows (state_hash, realm_ref, provider, nonce, code_verifier, "
                 "code_challenge, redirect_to, browser_hash, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
                 "now() + make_interval(secs => $9))",
                 pqxx::binarystring(sha256_bytes(state)), m_realm.name(), flow.provider, flow.nonce,
                 flow.code_verifier, flow.code_challenge, flow.redirect_to, pqxx::binarystring(flow.browser_hash),
                 kOAuthFlowSeconds);
}

std::optional<OAuthFlow> OAuthFlowStore::take(pqxx::transaction_base& tx, const std::string& state) const {
  if (state.empty() || state.size() > kMaxTokenBytes) {
    return std::nullopt;
  }
  const pqxx::result r = tx.exec_params(
      "DELETE FROM auth.oauth_flows WHERE state_hash = $1 AND realm_ref = $2 RETURNING provider, nonce, "
      "code_verifier, code_challenge, redirect_to, browser_hash, expires_at < now()",
      pqxx::binarystring(sha256_bytes(state)), m_realm.name());
  if (r.empty()) {
    return std::nullopt;
  }
  return OAuthFlow{r[0][0].as<std::string>(), r[0][1].as<std::string>(),        r[0][2].as<std::string>(),
                   r[0][3].as<std::string>(), r[0][4].as<std::string>(),        pqxx::binarystring(r[0][5]).str(),
                   r[0][6].as<bool>()};
}

std::string OAuthFlowStore::issue_code(pqxx::transaction_base& tx, const std::string& user_id,
                                       const std::string& provider, const std::string& code_challenge) const {
  tx.exec("DELETE FROM auth.oauth_codes WHERE code_hash IN (SELECT code_hash FROM auth.oauth_codes "
          "WHERE expires_at < now() LIMIT 100)");
  const std::string code = random_token(32);
  tx.exec_params("INSERT INTO auth.oauth_codes (code_hash, realm_ref, user_id, provider, code_challenge, expires_at) "
                 "VALUES ($1, $2, $3::uuid, $4, $5, now() + make_interval(secs => $6))",
                 pqxx::binarystring(sha256_bytes(code)), m_realm.name(), user_id, provider, code_challenge,
                 kOAuthCodeSeconds);
  return code;
}

std::optional<OAuthCode> OAuthFlowStore::take_code(pqxx::transaction_base& tx, const std::string& code) const {
  if (code.empty() || code.size() > kMaxTokenBytes) {
    return std::nullopt;
  }
  const pqxx::result r = tx.exec_params(
      "DELETE FROM auth.oauth_codes WHERE code_hash = $1 AND realm_ref = $2 RETURNING user_id::text, provider, "
      "code_challenge, expires_at < now()",
      pqxx::binarystring(sha256_bytes(code)), m_realm.name());
  if (r.empty()) {
    return std::nullopt;
  }
  return OAuthCode{r[0][0].as<std::string>(), r[0][1].as<std::string>(), r[0][2].as<std::string>(),
                   r[0][3].as<bool>()};
}

}  // namespace orbitnest::authd
