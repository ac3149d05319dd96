#include "authd/flows/cors.h"

#include <algorithm>

namespace orbitnest::authd {
namespace {

constexpr const char* kAllowHeaders =
    "Accept, Authorization, Content-Type, X-Client-IP, X-Client-Info, X-JWT-AUD, x-use-cookie, "
    "X-Supabase-Api-Version, apikey, x-upsert";
constexpr const char* kExposeHeaders = "X-Total-Count, Link, X-Supabase-Api-Version, x-sb-error-code";

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c); });
  return out;
}

}  // namespace

std::string origin_of(std::string_view url) {
  const std::size_t sep = url.find("://");
  if (sep == std::string_view::npos) {
    return "";
  }
  const std::string scheme = lower(url.substr(0, sep));
  if (scheme != "http" && scheme != "https") {
    return "";
  }
  const std::size_t host_end = url.find_first_of("/?#", sep + 3);
  const std::string_view authority = url.substr(sep + 3, host_end == std::string_view::npos ? url.npos : host_end - sep - 3);
  if (authority.empty() || authority.find('@') != std::string_view::npos) {
    return "";
  }
  return scheme + "://" + lower(authority);
}

std::string allowed_origin(const ProjectSettings& settings, std::string_view origin) {
  if (origin.empty() || origin == "null") {
    return "";  // sandboxed frames, file:// pages and redirects: never trusted
  }
  const std::string wanted = origin_of(origin);
  if (wanted.empty() || wanted != origin) {
    return "";  // an Origin header is exactly scheme://host[:port], lower case
  }
  if (!settings.cors_allowed_origins.empty()) {
    for (const std::string& o : settings.cors_allowed_origins) {
      if (o == "*") {
        return "*";
      }
      if (origin_of(o) == wanted) {
        return wanted;
      }
    }
    return "";
  }
  if (origin_of(settings.site_url) == wanted) {
    return wanted;
  }
  for (const std::string& u : settings.redirect_urls) {
    if (origin_of(u) == wanted) {
      return wanted;
    }
  }
  return "";
}

void add_cors(const Request& req, const ProjectSettings& settings, Response& r) {
  const auto origin = req.headers.find("Origin");
  if (origin == req.headers.end()) {
    return;
  }
  const std::string allowed = allowed_origin(settings, origin->second);
  // Vary: the answer depends on Origin even when it says no, so a cache
  // must not hand one origin's answer to another.
  r.headers.emplace_back("Vary", "Origin");
  if (allowed.empty()) {
    return;
  }
  r.headers.emplace_back("Access-Control-Allow-Origin", allowed);
  r.headers.emplace_back("Access-Control-Expose-Headers", kExposeHeaders);
}

Response preflight_response(const Request& req, const ProjectSettings& settings) {
  Response r;
  r.status = 204;
  r.content_type = "text/plain";
  add_cors(req, settings, r);
  if (std::any_of(r.headers.begin(), r.headers.end(),
                  [](const auto& h) { return h.first == "Access-Control-Allow-Origin"; })) {
    r.headers.emplace_back("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS");
    r.headers.emplace_back("Access-Control-Allow-Headers", kAllowHeaders);
    r.headers.emplace_back("Access-Control-Max-Age", "86400");
  }
  return r;
}

}  // namespace orbitnest::authd
