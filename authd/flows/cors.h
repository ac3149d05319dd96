#pragma once
// CORS for the project API. A page may read the API's answers only when
// its origin is on the project's list (cors_allowed_origins; by default
// the origins of site_url and redirect_urls): reflecting any Origin, null
// included, let every site on the web drive a signed-in user's browser.
// Credentials are never allowed: auth-js sends tokens in headers, not
// cookies, so no route needs them.
#include <string>
#include <string_view>

#include "authd/http/http_types.h"
#include "authd/projects/project.h"

namespace orbitnest::authd {

// "https://App.example.com:8443/x?y" -> "https://app.example.com:8443"; "" if not http(s).
std::string origin_of(std::string_view url);

// The Access-Control-Allow-Origin value for `origin`: "*", the origin
// itself, or "" (not allowed).
std::string allowed_origin(const ProjectSettings& settings, std::string_view origin);

// Adds the CORS answer headers when the request's Origin is allowed.
void add_cors(const Request& req, const ProjectSettings& settings, Response& r);

// The answer to a preflight (OPTIONS): 204, with the allowed methods and
// headers only for an allowed origin.
Response preflight_response(const Request& req, const ProjectSettings& settings);

}  // namespace orbitnest::authd
