#pragma once
// Social sign-ins in flight (auth.oauth_flows) and the codes they end in
// (auth.oauth_codes), policy 0013. Both are kept by the SHA-256 of what
// travels in URLs, taken once (deleted whatever follows), and bounded in
// time; each issue purges a batch of expired rows.
#include <pqxx/pqxx>

#include <optional>
#include <string>

#include "authd/realms/realm.h"

namespace orbitnest::authd {

inline constexpr int kOAuthFlowSeconds = 600;
inline constexpr int kOAuthCodeSeconds = 300;

struct OAuthFlow {
  std::string provider;
  std::string nonce;
  std::string code_verifier;   // ours, for the provider's PKCE
  std::string code_challenge;  // the client's (S256), for the code we hand back
  std::string redirect_to;
  std::string browser_hash;  // SHA-256 of the binding cookie's value
  bool expired = false;
};

struct OAuthCode {
  std::string user_id;
  std::string provider;
  std::string code_challenge;
  bool expired = false;
};

class OAuthFlowStore final {
 public:
  explicit OAuthFlowStore(const Realm& realm) : m_realm(realm) {}

  void begin(pqxx::transaction_base& tx, const std::string& state, const OAuthFlow& flow) const;
  std::optional<OAuthFlow> take(pqxx::transaction_base& tx, const std::string& state) const;
  // A fresh code for `user_id`, bound to the flow's client challenge.
  std::string issue_code(pqxx::transaction_base& tx, const std::string& user_id, const std::string& provider,
                         const std::string& code_challenge) const;
  std::optional<OAuthCode> take_code(pqxx::transaction_base& tx, const std::string& code) const;

 private:
  const Realm& m_realm;
};

}  // namespace orbitnest::authd
