#include "authd/oauth/github_client.h"

#include <boost/json.hpp>

#include "authd/api/url_query.h"
#include "authd/oauth/https_fetch.h"
#include "authd/tokens/compact_jws.h"

namespace orbitnest::authd {
namespace {

boost::json::value parse(std::string_view json, const char* what) {
  boost::json::error_code ec;
  boost::json::value v = boost::json::parse(json, ec);
  if (ec) {
    throw ProviderError("oauth_provider_error", std::string("GitHub's ") + what + " is not JSON");
  }
  return v;
}

FetchAnswer fetch(const FetchRequest& request, const char* what) {
  try {
    return https_fetch(request);
  } catch (const FetchBusy& e) {
    throw ProviderError("over_capacity", e.what());
  } catch (const std::exception& e) {
    throw ProviderError("oauth_provider_error", std::string("GitHub's ") + what + " failed: " + e.what());
  }
}

}  // namespace

ProviderIdentity github_identity(std::string_view user_json, std::string_view emails_json) {
  const boost::json::value user = parse(user_json, "user");
  const boost::json::value emails = parse(emails_json, "email list");
  if (!user.is_object() || !emails.is_array()) {
    throw ProviderError("bad_oauth_callback", "GitHub's user or email list has another shape");
  }
  const boost::json::value* id = user.as_object().if_contains("id");
  // The numeric id is the stable one (a login can be renamed and reused).
  if (id == nullptr || !id->is_int64() || id->as_int64() <= 0) {
    throw ProviderError("bad_oauth_callback", "GitHub's user has no id");
  }
  ProviderIdentity identity;
  identity.subject = std::to_string(id->as_int64());
  identity.claims = user.as_object();
  identity.name = string_member(user.as_object(), "name").value_or(string_member(user.as_object(), "login").value_or(""));
  identity.name = identity.name.substr(0, 256);
  for (const boost::json::value& e : emails.as_array()) {
    if (!e.is_object()) {
      continue;
    }
    const boost::json::object& entry = e.as_object();
    const boost::json::value* primary = entry.if_contains("primary");
    if (primary != nullptr && primary->is_bool() && primary->as_bool()) {
      const boost::json::value* verified = entry.if_contains("verified");
      identity.email = string_member(entry, "email").value_or("");
      identity.email_verified = verified != nullptr && verified->is_bool() && verified->as_bool();
      break;
    }
  }
  identity.claims["email"] = identity.email;
  identity.claims["email_verified"] = identity.email_verified;
  return identity;
}

std::string GitHubClient::authorization_url(const AuthorizationRequest& request) {
  std::string scope;
  for (const std::string& s : m_config.scopes) {
    scope += (scope.empty() ? "" : " ") + s;
  }
  return url_with_query(m_config.authorization_endpoint,
                        "client_id=" + query_escape(m_config.client_id) + "&redirect_uri=" +
                            query_escape(request.redirect_uri) + "&scope=" + query_escape(scope) +
                            "&state=" + query_escape(request.state) + "&allow_signup=false" +
                            "&code_challenge=" + query_escape(request.code_challenge) +
                            "&code_challenge_method=S256");
}

ProviderIdentity GitHubClient::redeem(const std::string& code, const std::string& code_verifier,
                                      const std::string& redirect_uri, const std::string& /*nonce*/,
                                      std::int64_t /*now*/) {
  // GitHub answers token errors with HTTP 200 and {"error": ...}.
  FetchRequest exchange;
  exchange.url = m_config.token_endpoint;
  exchange.form = {{"client_id", m_config.client_id},
                   {"client_secret", m_config.client_secret},
                   {"code", code},
                   {"redirect_uri", redirect_uri},
                   {"code_verifier", code_verifier}};
  exchange.ca_file = m_config.ca_file;
  const FetchAnswer token = fetch(exchange, "token endpoint");
  const boost::json::value answer = parse(token.body, "token answer");
  if (!answer.is_object()) {
    throw ProviderError("oauth_provider_error", "GitHub's token answer is not a JSON object");
  }
  const std::optional<std::string> access_token = string_member(answer.as_object(), "access_token");
  if (token.status != 200 || !access_token || access_token->empty()) {
    throw ProviderError("bad_oauth_callback",
                        "GitHub refused the code: " + string_member(answer.as_object(), "error").value_or("no token"));
  }
  const auto api = [&](const std::string& path, const char* what) {
    FetchRequest request;
    request.url = m_config.api_base + path;
    request.bearer = *access_token;
    request.ca_file = m_config.ca_file;
    const FetchAnswer r = fetch(request, what);
    if (r.status != 200) {
      throw ProviderError("oauth_provider_error", std::string("GitHub's ") + what + " answered HTTP " +
                                                      std::to_string(r.status));
    }
    return r.body;
  };
  return github_identity(api("/user", "user"), api("/user/emails", "email list"));
}

}  // namespace orbitnest::authd
