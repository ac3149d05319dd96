#pragma once
// Email links: besides its code, every code mail carries a link back to the
// app. Without PKCE it is redirect_to?token_hash=…&type=…, and the app's
// page answers with verifyOtp({ token_hash, type }) (Supabase's server-side
// recipe; fetching the link changes nothing, so mail scanners consume
// nothing). With PKCE it is redirect_to?code=…, and only the browser that
// holds the verifier can exchange it (POST /token?grant_type=pkce).
#include <string>
#include <string_view>
#include <vector>

#include "authd/api/json_body.h"
#include "authd/api/url_query.h"
#include "authd/projects/project.h"

namespace orbitnest::authd {

struct EmailLink {
  std::string redirect_to;            // an allowed URL: site_url when none was asked for or allowed
  std::string code_challenge;         // empty: not a PKCE flow
  std::string code_challenge_method;  // "s256" or "plain"
  bool pkce() const { return !code_challenge.empty(); }
};

// From a request: the redirect_to query parameter and the body's
// code_challenge and code_challenge_method (auth-js sends them as null
// outside PKCE). Throws ApiError 400 validation_failed for a malformed
// challenge or method.
EmailLink email_link_for(const Project& project, const Request& req, const JsonBody& body);

// True when `url` is site_url or a redirect_urls entry, or lies under one.
bool redirect_allowed(const ProjectSettings& settings, std::string_view url);
// True when `url` is one of `allowed` or lies under one (a trailing *
// allows any continuation; else a path, query or fragment must follow).
bool url_allowed(const std::vector<std::string>& allowed, std::string_view url);


// The URL a mail carries for `token`, of verification `type`.
std::string email_link_url(const EmailLink& link, const std::string& token, std::string_view type);

// POST /token?grant_type=pkce's body: the code a redirect carried (an
// email link's, or a social sign-in's) and the verifier only the browser
// that began the flow holds.
struct PkceExchange {
  std::string auth_code;
  std::string code_verifier;
};

// RFC 7636 §4.2: the S256 challenge of `verifier` (base64url of its SHA-256).
std::string pkce_s256(std::string_view verifier);

// RFC 7636 §4.6: does `verifier` answer `challenge` (compared in constant
// time)? A verifier of the wrong shape never does.
bool pkce_verifier_matches(std::string_view verifier, std::string_view challenge, std::string_view method);

}  // namespace orbitnest::authd
