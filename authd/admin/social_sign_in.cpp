#include "authd/admin/social_sign_in.h"

#include "authd/api/api_error.h"
#include "authd/flows/email_address.h"
#include "authd/flows/email_links.h"
#include "authd/flows/session_issuer.h"
#include "authd/oauth/social_providers.h"
#include "authd/security/random.h"
#include "authd/stores/identity_store.h"
#include "authd/stores/oauth_flow_store.h"
#include "authd/stores/user_store.h"
#include "systemd/log.h"

#include <botan/mem_ops.h>

#include <algorithm>

namespace orbitnest::authd {
namespace {

SocialProviders& providers_of(AuthServices& s) {
  if (s.social == nullptr || s.social->empty()) {
    throw ApiError(404, "oauth_provider_not_supported", "No social sign-in provider is configured (admin.oauth)");
  }
  return *s.social;
}

Response redirect(const std::string& location, std::optional<std::string> cookie = std::nullopt) {
  Response r;
  r.status = 302;
  r.headers.emplace_back("Location", location);
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");  // the code must not leak onwards
  r.content_type = "text/plain";
  if (cookie) {
    r.headers.emplace_back("Set-Cookie", *cookie);
  }
  return r;
}

// Back to the app with GoTrue's error parameters.
Response redirect_error(const std::string& redirect_to, const std::string& code, const std::string& description) {
  return redirect(url_with_query(redirect_to, "error=" + std::string(code == "server_error" ? "server_error" : "access_denied") +
                                                  "&error_code=" + query_escape(code) +
                                                  "&error_description=" + query_escape(description)));
}

// The cookie that binds a flow to the browser that began it: without it a
// flow begun by an attacker (with the attacker's PKCE) and finished by a
// victim's browser — already signed in at the provider — would hand the
// attacker a code for the victim's account. Scoped to the callback's path.
constexpr const char* kBindingCookie = "orbitnest-admin-oauth";

std::string binding_cookie(const SocialProviders& p, const std::string& value, int max_age) {
  return std::string(kBindingCookie) + "=" + value + "; Path=" + p.callback_path() +
         "; Max-Age=" + std::to_string(max_age) + "; Secure; HttpOnly; SameSite=Lax";
}

// The binding cookie's value the request carries ("" when none).
std::string binding_of(const Request& req) {
  const auto it = req.headers.find("Cookie");
  if (it == req.headers.end()) {
    return "";
  }
  const std::string prefix = std::string(kBindingCookie) + "=";
  std::string_view rest = it->second;
  while (!rest.empty()) {
    const std::size_t end = rest.find(';');
    std::string_view pair = rest.substr(0, end);
    while (!pair.empty() && pair.front() == ' ') {
      pair.remove_prefix(1);
    }
    if (pair.substr(0, prefix.size()) == prefix) {
      return std::string(pair.substr(prefix.size()));
    }
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
  }
  return "";
}

bool same_bytes(const std::string& a, const std::string& b) {
  return a.size() == b.size() && Botan::constant_time_compare(reinterpret_cast<const std::uint8_t*>(a.data()),
                                                              reinterpret_cast<const std::uint8_t*>(b.data()), a.size());
}

// RFC 6749 §4.1.2.1's codes: a provider's error is relayed only as one of
// these; its free text is logged, never put on the app's page.
std::string provider_error_code(const std::string& error) {
  for (const char* known : {"access_denied", "invalid_request", "unauthorized_client", "unsupported_response_type",
                            "invalid_scope", "server_error", "temporarily_unavailable"}) {
    if (error == known) {
      return error;
    }
  }
  return "unknown_error";
}

// `email` canonical, the domains too (reduced at start).
bool may_sign_up(const SocialProviders& p, const std::string& email) {
  const std::string domain = email.substr(email.rfind('@') + 1);
  const std::vector<std::string>& allowed = p.signup_domains();
  return std::find(allowed.begin(), allowed.end(), domain) != allowed.end();
}

// The admin the provider's identity is: linked before, or an admin whose
// address the provider verified (linked now), or — for a domain the
// operator allows — a new admin. nullopt with the reason otherwise.
struct Resolved {
  std::optional<UserRecord> admin;
  std::string error_code;
  std::string error_description;
};

Resolved resolve_admin(pqxx::work& tx, const RealmCall& c, const SocialProviders& p, const std::string& provider,
                       const ProviderIdentity& identity) {
  const IdentityStore identities(c.realm);
  const UserStore users(c.realm);
  boost::json::object data = identity.claims;
  data["provider"] = provider;
  if (const std::optional<std::string> linked = identities.user_of(tx, provider, identity.subject)) {
    identities.touch(tx, provider, identity.subject, data);
    return Resolved{users.find_by_id(tx, *linked), "", ""};
  }
  if (identity.email.empty() || !identity.email_verified) {
    return Resolved{std::nullopt, "provider_email_needs_verification",
                    "The provider did not vouch for an email address; verify it there and try again"};
  }
  std::string email;
  try {
    email = canonical_email(identity.email);
  } catch (const ApiError&) {
    return Resolved{std::nullopt, "bad_oauth_callback", "The provider's email address is not one we can use"};
  }
  std::optional<UserRecord> admin = users.find_by_email(tx, email);
  if (!admin && may_sign_up(p, email)) {
    const std::string id = uuid_v4();
    users.create_confirmed(tx, id, email, std::nullopt, std::nullopt,
                           boost::json::serialize(boost::json::object{{"name", identity.name}}));
    admin = users.find_by_id(tx, id);
  }
  if (!admin) {
    return Resolved{std::nullopt, "signup_disabled",
                    "No admin has this address; an admin must add you first (or allow its domain in "
                    "admin.oauth.signup_domains)"};
  }
  if (!identities.link(tx, admin->id, provider, identity.subject, data)) {
    // A link raced this one: whoever it linked to is the answer.
    const std::optional<std::string> linked = identities.user_of(tx, provider, identity.subject);
    return Resolved{linked ? users.find_by_id(tx, *linked) : std::nullopt, "", ""};
  }
  return Resolved{admin, "", ""};
}

}  // namespace

Response social_authorize(AuthServices& s, const RealmCall& c) {
  SocialProviders& providers = providers_of(s);
  const std::string name = query_param(c.req, "provider").value_or("");
  IdentityProvider* provider = providers.find(name);
  if (provider == nullptr) {
    throw ApiError(400, "oauth_provider_not_supported", "Unsupported provider: \"" + name.substr(0, 64) + "\"");
  }
  const std::optional<std::string> redirect_to = query_param(c.req, "redirect_to");
  if (!redirect_to || !url_allowed(providers.settings().redirect_urls, *redirect_to)) {
    throw ApiError(400, "validation_failed", "redirect_to must lie under one of admin.oauth.redirect_urls");
  }
  // The browser's leg is PKCE (S256) always: the code travels in a URL.
  const std::string challenge = query_param(c.req, "code_challenge").value_or("");
  const std::string method = query_param(c.req, "code_challenge_method").value_or("");
  if ((method != "s256" && method != "S256") || challenge.size() != 43) {
    throw ApiError(400, "validation_failed",
                   "code_challenge (43 characters, base64url of SHA-256) and code_challenge_method=s256 are required");
  }
  const std::string state = random_token(32);
  OAuthFlow flow;
  flow.provider = name;
  flow.nonce = random_token(32);
  flow.code_verifier = random_token(48);
  flow.code_challenge = challenge;
  flow.redirect_to = *redirect_to;
  const std::string binding = random_token(32);
  flow.browser_hash = sha256_bytes(binding);
  std::string location;
  try {
    location = provider->authorization_url(
        AuthorizationRequest{providers.settings().callback_url, state, flow.nonce, pkce_s256(flow.code_verifier)});
  } catch (const ProviderError& e) {
    throw ApiError(e.code() == "over_capacity" ? 503 : 502, e.code(), e.what());
  }
  PgPool::Lease conn = s.pg.lease();
  pqxx::work tx(*conn);
  OAuthFlowStore(c.realm).begin(tx, state, flow);
  tx.commit();
  return redirect(location, binding_cookie(providers, binding, kOAuthFlowSeconds));
}

Response social_callback(AuthServices& s, const RealmCall& c) {
  SocialProviders& providers = providers_of(s);
  std::optional<OAuthFlow> flow;
  {
    // Taken in a transaction of its own: a state serves one callback.
    PgPool::Lease conn = s.pg.lease();
    pqxx::work tx(*conn);
    flow = OAuthFlowStore(c.realm).take(tx, query_param(c.req, "state").value_or(""));
    tx.commit();
  }
  if (!flow || flow->expired) {
    throw ApiError(400, "bad_oauth_state", "OAuth state is unknown, used or expired: begin the sign-in again");
  }
  // Only the browser that began the flow finishes it (the state is spent either way).
  if (!same_bytes(sha256_bytes(binding_of(c.req)), flow->browser_hash)) {
    throw ApiError(400, "bad_oauth_state", "This sign-in was begun in another browser: begin it again here");
  }
  if (const std::optional<std::string> error = query_param(c.req, "error")) {
    log::notice("authd.oauth_provider_error",
                {{"provider", flow->provider},
                 {"error", error->substr(0, 64)},
                 {"description", query_param(c.req, "error_description").value_or("").substr(0, 256)}});
    return redirect_error(flow->redirect_to, "oauth_provider_error",
                          "The provider did not sign you in (" + provider_error_code(*error) + ")");
  }
  IdentityProvider* provider = providers.find(flow->provider);
  // RFC 9207: a provider that names itself must be the one the flow went
  // to (a mix-up attack sends another provider's code to this callback),
  // and one that says it always does must have done so.
  const std::optional<std::string> iss = query_param(c.req, "iss");
  if (provider != nullptr && ((iss && *iss != provider->issuer()) || (!iss && provider->sends_iss()))) {
    return redirect_error(flow->redirect_to, "bad_oauth_callback", "The answer comes from another provider (iss)");
  }
  const std::optional<std::string> code = query_param(c.req, "code");
  if (provider == nullptr || !code || code->empty() || code->size() > 2048) {
    return redirect_error(flow->redirect_to, "bad_oauth_callback", "The provider's answer has no code");
  }
  ProviderIdentity identity;
  try {
    identity = provider->redeem(*code, flow->code_verifier, providers.settings().callback_url, flow->nonce, unix_now());
  } catch (const ProviderError& e) {
    return redirect_error(flow->redirect_to, e.code(), e.what());
  }
  PgPool::Lease conn = s.pg.lease();
  pqxx::work tx(*conn);
  const Resolved resolved = resolve_admin(tx, c, providers, flow->provider, identity);
  if (!resolved.admin) {
    tx.abort();
    return redirect_error(flow->redirect_to, resolved.error_code, resolved.error_description);
  }
  if (resolved.admin->banned) {
    tx.abort();
    return redirect_error(flow->redirect_to, "user_banned", "This admin is banned");
  }
  const std::string auth_code =
      OAuthFlowStore(c.realm).issue_code(tx, resolved.admin->id, flow->provider, flow->code_challenge);
  tx.commit();
  return redirect(url_with_query(flow->redirect_to, "code=" + auth_code), binding_cookie(providers, "", 0));
}

Response social_code_grant(AuthServices& s, const RealmCall& c, const PkceExchange& exchange) {
  PgPool::Lease conn = s.pg.lease();
  pqxx::work tx(*conn);
  // Taken whatever follows: a wrong verifier burns the code.
  const std::optional<OAuthCode> code = OAuthFlowStore(c.realm).take_code(tx, exchange.auth_code);
  if (!code) {
    throw ApiError(404, "flow_state_not_found", "invalid flow state, no valid flow state found");
  }
  if (code->expired || !pkce_verifier_matches(exchange.code_verifier, code->code_challenge, "s256")) {
    tx.commit();
    throw code->expired ? ApiError(422, "flow_state_expired", "The sign-in took too long: begin it again")
                        : ApiError(400, "bad_code_verifier", "code challenge does not match previously saved code verifier");
  }
  const std::optional<UserRecord> admin = UserStore(c.realm).find_by_id(tx, code->user_id);
  if (!admin) {
    throw ApiError(404, "flow_state_not_found", "invalid flow state, no valid flow state found");
  }
  refuse_banned(*admin, 400);
  return finish_sign_in(s, c, tx, *admin, "oauth", user_agent_of(c.req));
}

}  // namespace orbitnest::authd
