#pragma once
// Social sign-in for admins (the seed: "admins can sign in or sign up with
// Google ... a verified-email match auto-links the provider to an existing
// account"), as OpenID Connect's authorization code flow with PKCE on both
// legs: the browser's (GoTrue's shape: GET /authorize?provider=&redirect_to=
// &code_challenge=, then POST /token?grant_type=pkce) and ours with the
// provider. See authd/oauth/README.md.
#include "authd/flows/auth_api.h"
#include "authd/flows/email_links.h"

namespace orbitnest::authd {

// GET /authorize: 302 to the provider.
Response social_authorize(AuthServices& s, const RealmCall& c);
// GET /callback: the provider's answer; 302 to redirect_to with ?code= (or
// ?error=&error_code=&error_description=).
Response social_callback(AuthServices& s, const RealmCall& c);
// POST /token?grant_type=pkce {auth_code, code_verifier}: the session (or
// the MFA challenge of an admin with a second factor).
Response social_code_grant(AuthServices& s, const RealmCall& c, const PkceExchange& exchange);

}  // namespace orbitnest::authd
