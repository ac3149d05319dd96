#include "authd/oauth/id_token.h"

#include "authd/tokens/compact_jws.h"
#include "keyd/keyring/jwk_public_key.h"

namespace orbitnest::authd {
namespace {

[[noreturn]] void refuse(const std::string& why) {
  throw ProviderError("bad_oauth_callback", "the provider's ID token is not acceptable: " + why);
}

boost::json::object json_object(std::string_view json, const char* what) {
  boost::json::error_code ec;
  boost::json::value v = boost::json::parse(json, ec);
  if (ec || !v.is_object()) {
    throw ProviderError("oauth_provider_error", std::string("the provider's ") + what + " is not a JSON object");
  }
  return std::move(v.as_object());
}

std::string https_member(const boost::json::object& o, const char* name) {
  const std::optional<std::string> url = string_member(o, name);
  if (!url || url->rfind("https://", 0) != 0 || url->size() > 2048) {
    throw ProviderError("oauth_provider_error", std::string("the provider's discovery has no https ") + name);
  }
  return *url;
}

}  // namespace

OidcEndpoints parse_discovery(std::string_view json, const std::string& issuer) {
  const boost::json::object doc = json_object(json, "discovery document");
  // OIDC Discovery §4.3: the issuer in the document is exactly the one asked.
  if (string_member(doc, "issuer") != issuer) {
    throw ProviderError("oauth_provider_error", "the provider's discovery names another issuer");
  }
  const boost::json::value* iss = doc.if_contains("authorization_response_iss_parameter_supported");
  return OidcEndpoints{issuer, https_member(doc, "authorization_endpoint"), https_member(doc, "token_endpoint"),
                       https_member(doc, "jwks_uri"), iss != nullptr && iss->is_bool() && iss->as_bool()};
}

ProviderKeys parse_jwks(std::string_view json) {
  const boost::json::object doc = json_object(json, "JWKS");
  const boost::json::value* keys = doc.if_contains("keys");
  if (keys == nullptr || !keys->is_array()) {
    throw ProviderError("oauth_provider_error", "the provider's JWKS has no keys");
  }
  ProviderKeys out;
  for (const boost::json::value& k : keys->as_array()) {
    if (!k.is_object() || string_member(k.as_object(), "use").value_or("sig") != "sig") {
      continue;
    }
    try {
      out.emplace(string_member(k.as_object(), "kid").value_or(""), keyd::public_key_from_jwk(k.as_object()));
    } catch (const std::exception&) {
      continue;  // a kind we do not verify (or a malformed key): never used
    }
  }
  if (out.empty()) {
    throw ProviderError("oauth_provider_error", "the provider's JWKS has no signing key we can use");
  }
  return out;
}

ProviderIdentity verify_id_token(std::string_view token, const ProviderKeys& keys, const IdTokenCheck& check) {
  CompactJws jws;
  try {
    jws = parse_compact_jws(token);
  } catch (const JwsError& e) {
    refuse(e.what());
  }
  auto key = keys.find(jws.kid);
  if (key == keys.end() && jws.kid.empty() && keys.size() == 1) {
    key = keys.begin();
  }
  if (key == keys.end()) {
    refuse("signed with a key the provider does not publish");
  }
  if (!jws_signature_valid(jws, *key->second)) {
    refuse("the signature does not verify");
  }
  const boost::json::object& claims = jws.payload;
  if (string_member(claims, "iss") != check.issuer) {
    refuse("issued by another issuer");
  }
  if (!has_audience(claims, check.client_id)) {
    refuse("issued to another client");
  }
  // §3.1.3.7 items 4-5: with several audiences, azp must be us.
  if (const boost::json::value* aud = claims.if_contains("aud"); aud != nullptr && aud->is_array() &&
                                                                  aud->as_array().size() > 1 &&
                                                                  string_member(claims, "azp") != check.client_id) {
    refuse("issued to several clients, not authorized for us");
  }
  const std::optional<std::int64_t> exp = integer_member(claims, "exp");
  const std::optional<std::int64_t> iat = integer_member(claims, "iat");
  if (!exp || *exp + check.leeway_seconds <= check.now) {
    refuse("expired");
  }
  if (!iat || *iat > check.now + check.leeway_seconds || *iat + check.max_age_seconds < check.now) {
    refuse("issued at an implausible time");
  }
  if (check.nonce.empty() || string_member(claims, "nonce") != check.nonce) {
    refuse("it answers another sign-in (nonce)");
  }
  ProviderIdentity identity;
  const std::optional<std::string> sub = string_member(claims, "sub");
  if (!sub || sub->empty() || sub->size() > 255) {
    refuse("no subject");
  }
  identity.subject = *sub;
  identity.email = string_member(claims, "email").value_or("");
  if (const boost::json::value* verified = claims.if_contains("email_verified"); verified != nullptr) {
    // Some providers send the string "true" (OIDC says boolean).
    identity.email_verified = (verified->is_bool() && verified->as_bool()) ||
                              (verified->is_string() && verified->as_string() == "true");
  }
  identity.name = string_member(claims, "name").value_or("").substr(0, 256);
  identity.claims = claims;
  return identity;
}

}  // namespace orbitnest::authd
