#include "authd/flows/email_links.h"

#include <botan/hash.h>
#include <botan/mem_ops.h>

#include <algorithm>
#include <cctype>

#include "authd/api/api_error.h"
#include "keyd/keyring/base64url.h"

namespace orbitnest::authd {
namespace {

// RFC 7636 §4.1: 43 to 128 characters of [A-Za-z0-9-._~].
bool pkce_shaped(std::string_view s) {
  return s.size() >= 43 && s.size() <= 128 && std::all_of(s.begin(), s.end(), [](unsigned char ch) {
           return std::isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~';
         });
}

// No spaces or control characters: the URL goes into a mail body. (Its
// scheme is one the settings allowed: it must lie under an entry.) And
// nothing a browser would resolve to another place than the prefix says:
// no backslash (browsers read it as '/'), no dot segment, literal or
// percent-encoded ("…/allowed/../x" is "…/x"), no encoded slash.
bool plain_url(std::string_view url) {
  if (url.size() > 2048 ||
      std::any_of(url.begin(), url.end(), [](unsigned char ch) { return ch <= ' ' || ch == 0x7f || ch == '\\'; })) {
    return false;
  }
  std::string lower(url.substr(0, url.find_first_of("?#")));
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return std::tolower(ch); });
  if (lower.find("%2e") != std::string::npos || lower.find("%2f") != std::string::npos ||
      lower.find("%5c") != std::string::npos) {
    return false;
  }
  for (std::size_t at = lower.find("/."); at != std::string::npos; at = lower.find("/.", at + 1)) {
    const std::string_view rest = std::string_view(lower).substr(at + 2);
    if (rest.empty() || rest[0] == '/' || (rest[0] == '.' && (rest.size() == 1 || rest[1] == '/'))) {
      return false;  // "/." or "/.." as a whole segment
    }
  }
  return true;
}

bool under(std::string_view url, std::string_view allowed) {
  if (!allowed.empty() && allowed.back() == '*') {
    return url.rfind(allowed.substr(0, allowed.size() - 1), 0) == 0;
  }
  if (url.rfind(allowed, 0) != 0) {
    return false;
  }
  // https://app.example allows https://app.example/x, not https://app.example.evil.test
  return url.size() == allowed.size() || allowed.back() == '/' || url[allowed.size()] == '/' ||
         url[allowed.size()] == '?' || url[allowed.size()] == '#';
}

}  // namespace

bool redirect_allowed(const ProjectSettings& settings, std::string_view url) {
  return (plain_url(url) && under(url, settings.site_url)) || url_allowed(settings.redirect_urls, url);
}

bool url_allowed(const std::vector<std::string>& allowed, std::string_view url) {
  return plain_url(url) &&
         std::any_of(allowed.begin(), allowed.end(), [&](const std::string& a) { return !a.empty() && under(url, a); });
}

EmailLink email_link_for(const Project& project, const Request& req, const JsonBody& body) {
  EmailLink link;
  const std::optional<std::string> redirect = query_param(req, "redirect_to");
  // GoTrue's behaviour: a redirect that is not allowed falls back to the
  // site URL rather than failing the request.
  link.redirect_to = redirect && redirect_allowed(project.settings, *redirect) ? *redirect : project.settings.site_url;
  const std::optional<std::string> challenge = body.string("code_challenge");
  std::optional<std::string> method = body.string("code_challenge_method");
  if (!challenge && !method) {
    return link;
  }
  if (!challenge || !method) {
    throw ApiError(400, "validation_failed", "PKCE flow requires code_challenge_method and code_challenge");
  }
  std::transform(method->begin(), method->end(), method->begin(), [](unsigned char ch) { return std::tolower(ch); });
  if (*method != "s256" && *method != "plain") {
    throw ApiError(400, "validation_failed", "code_challenge_method must be s256 or plain");
  }
  if (!pkce_shaped(*challenge)) {
    throw ApiError(400, "validation_failed", "code_challenge must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~");
  }
  link.code_challenge = *challenge;
  link.code_challenge_method = *method;
  return link;
}

std::string email_link_url(const EmailLink& link, const std::string& token, std::string_view type) {
  return url_with_query(link.redirect_to,
                        link.pkce() ? "code=" + token : "token_hash=" + token + "&type=" + std::string(type));
}

std::string pkce_s256(std::string_view verifier) {
  auto sha256 = Botan::HashFunction::create_or_throw("SHA-256");
  sha256->update(reinterpret_cast<const std::uint8_t*>(verifier.data()), verifier.size());
  const auto digest = sha256->final();
  return keyd::base64url_encode(std::string(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

bool pkce_verifier_matches(std::string_view verifier, std::string_view challenge, std::string_view method) {
  if (!pkce_shaped(verifier)) {
    return false;
  }
  std::string expected(verifier);
  if (method == "s256") {
    expected = pkce_s256(verifier);
  } else if (method != "plain") {
    return false;
  }
  return expected.size() == challenge.size() &&
         Botan::constant_time_compare(reinterpret_cast<const std::uint8_t*>(expected.data()),
                                      reinterpret_cast<const std::uint8_t*>(challenge.data()), expected.size());
}

}  // namespace orbitnest::authd
