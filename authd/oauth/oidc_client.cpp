#include "authd/oauth/oidc_client.h"

#include "authd/api/url_query.h"
#include "authd/oauth/https_fetch.h"
#include "authd/tokens/compact_jws.h"

namespace orbitnest::authd {
namespace {

constexpr auto kKeep = std::chrono::hours(1);
constexpr auto kMinRefetch = std::chrono::minutes(1);
constexpr auto kRememberFailure = std::chrono::seconds(30);

}  // namespace

std::string OidcClient::fetch_document(const std::string& url, const char* what) {
  {
    const std::lock_guard lock(m_mutex);
    if (std::chrono::steady_clock::now() < m_failed_until) {
      throw ProviderError("oauth_provider_error", m_failure);
    }
  }
  FetchRequest request;
  request.url = url;
  request.ca_file = m_config.ca_file;
  std::string failure;
  try {
    const FetchAnswer answer = https_fetch(request);
    if (answer.status == 200) {
      return answer.body;
    }
    failure = std::string("the provider's ") + what + " answered HTTP " + std::to_string(answer.status);
  } catch (const FetchBusy& e) {
    throw ProviderError("over_capacity", e.what());  // ours, not the provider's: not remembered
  } catch (const std::exception& e) {
    failure = std::string("the provider's ") + what + " could not be fetched: " + e.what();
  }
  const std::lock_guard lock(m_mutex);
  m_failed_until = std::chrono::steady_clock::now() + kRememberFailure;
  m_failure = failure + " (retried after 30 s)";
  throw ProviderError("oauth_provider_error", failure);
}

OidcEndpoints OidcClient::endpoints() {
  {
    const std::lock_guard lock(m_mutex);
    if (m_endpoints && std::chrono::steady_clock::now() - m_endpoints_at <= kKeep) {
      return *m_endpoints;
    }
  }
  const std::string url = m_config.issuer + (m_config.issuer.back() == '/' ? "" : "/") +
                          ".well-known/openid-configuration";
  OidcEndpoints fetched = parse_discovery(fetch_document(url, "discovery document"), m_config.issuer);
  const std::lock_guard lock(m_mutex);
  m_endpoints = fetched;
  m_endpoints_at = std::chrono::steady_clock::now();
  return fetched;
}

ProviderKeys OidcClient::keys(bool refetch) {
  const OidcEndpoints where = endpoints();
  {
    const std::lock_guard lock(m_mutex);
    const auto now = std::chrono::steady_clock::now();
    const bool stale = m_keys.empty() || now - m_keys_at > kKeep;
    if (!stale && !(refetch && now - m_keys_at > kMinRefetch)) {
      return m_keys;
    }
  }
  ProviderKeys fetched = parse_jwks(fetch_document(where.jwks_uri, "JWKS"));
  const std::lock_guard lock(m_mutex);
  m_keys = fetched;
  m_keys_at = std::chrono::steady_clock::now();
  return fetched;
}

std::string OidcClient::authorization_url(const AuthorizationRequest& request) {
  std::string scope;
  for (const std::string& s : m_config.scopes) {
    scope += (scope.empty() ? "" : " ") + s;
  }
  return url_with_query(endpoints().authorization_endpoint,
                        "response_type=code&client_id=" + query_escape(m_config.client_id) +
                            "&redirect_uri=" + query_escape(request.redirect_uri) + "&scope=" + query_escape(scope) +
                            "&state=" + query_escape(request.state) + "&nonce=" + query_escape(request.nonce) +
                            "&code_challenge=" + query_escape(request.code_challenge) +
                            "&code_challenge_method=S256");
}

ProviderIdentity OidcClient::redeem(const std::string& code, const std::string& code_verifier,
                                    const std::string& redirect_uri, const std::string& nonce, std::int64_t now) {
  FetchRequest request;
  request.form = {{"grant_type", "authorization_code"},
                  {"code", code},
                  {"redirect_uri", redirect_uri},
                  {"code_verifier", code_verifier}};
  request.basic_user = m_config.client_id;
  request.basic_password = m_config.client_secret;
  request.ca_file = m_config.ca_file;
  request.url = endpoints().token_endpoint;
  FetchAnswer answer;
  try {
    answer = https_fetch(request);
  } catch (const FetchBusy& e) {
    throw ProviderError("over_capacity", e.what());
  } catch (const std::exception& e) {
    throw ProviderError("oauth_provider_error", std::string("the provider's token endpoint failed: ") + e.what());
  }
  boost::json::error_code ec;
  const boost::json::value body = boost::json::parse(answer.body, ec);
  if (ec || !body.is_object()) {
    throw ProviderError("oauth_provider_error", "the provider's token endpoint answered no JSON object");
  }
  if (answer.status != 200) {
    // RFC 6749 §5.2: {error, error_description}; a code used or expired is invalid_grant.
    throw ProviderError("bad_oauth_callback", "the provider refused the code: " +
                                                  string_member(body.as_object(), "error").value_or("no error given"));
  }
  const std::optional<std::string> id_token = string_member(body.as_object(), "id_token");
  if (!id_token) {
    throw ProviderError("bad_oauth_callback", "the provider answered no ID token (is openid among the scopes?)");
  }
  const IdTokenCheck check{m_config.issuer, m_config.client_id, nonce, now};
  try {
    return verify_id_token(*id_token, keys(false), check);
  } catch (const ProviderError&) {
    // Perhaps a key rotated in since we fetched the set: once more, fresh.
    return verify_id_token(*id_token, keys(true), check);
  }
}

}  // namespace orbitnest::authd
