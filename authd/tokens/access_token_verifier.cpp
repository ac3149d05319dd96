#include "authd/tokens/access_token_verifier.h"

#include <botan/hash.h>
#include <botan/pubkey.h>
#include <strings.h>

#include <algorithm>

#include "authd/api/api_error.h"
#include "keyd/keyring/base64url.h"

namespace orbitnest::authd {
namespace {

[[noreturn]] void bad_jwt(const std::string& why) {
  throw ApiError(403, "bad_jwt", "invalid JWT: unable to parse or verify signature, " + why);
}

boost::json::object parse_part(std::string_view b64, const char* what) {
  const std::optional<std::string> raw = keyd::base64url_decode(b64);
  if (!raw) {
    bad_jwt(std::string(what) + " is not base64url");
  }
  boost::json::error_code ec;
  boost::json::value v = boost::json::parse(*raw, ec);
  if (ec || !v.is_object()) {
    bad_jwt(std::string(what) + " is not a JSON object");
  }
  return std::move(v.as_object());
}

std::int64_t int_claim(const boost::json::object& c, const char* name) {
  const boost::json::value* v = c.if_contains(name);
  if (v == nullptr || !v->is_int64()) {
    bad_jwt(std::string("token has no integer ") + name);
  }
  return v->as_int64();
}

std::string string_claim(const boost::json::object& c, const char* name) {
  const boost::json::value* v = c.if_contains(name);
  if (v == nullptr || !v->is_string()) {
    bad_jwt(std::string("token has no ") + name);
  }
  return std::string(v->as_string());
}

// RFC 7519 §4.1.3: aud is a string or an array of strings.
bool has_audience(const boost::json::object& c, const std::string& audience) {
  const boost::json::value* aud = c.if_contains("aud");
  if (aud == nullptr) {
    return false;
  }
  if (aud->is_string()) {
    return aud->as_string() == audience;
  }
  if (aud->is_array()) {
    const boost::json::array& list = aud->as_array();
    return std::any_of(list.begin(), list.end(),
                       [&](const boost::json::value& v) { return v.is_string() && v.as_string() == audience; });
  }
  return false;
}

}  // namespace

VerifiedToken AccessTokenVerifier::verify(const std::string& token, const std::string& keyring,
                                          const std::string& issuer, const std::string& audience,
                                          std::int64_t now) const {
  auto sha256 = Botan::HashFunction::create_or_throw("SHA-256");
  sha256->update(keyring);
  sha256->update(static_cast<std::uint8_t>(0));
  sha256->update(issuer);  // every check a cached answer skips is in its key
  sha256->update(static_cast<std::uint8_t>(0));
  sha256->update(audience);
  sha256->update(static_cast<std::uint8_t>(0));
  sha256->update(token);
  const Botan::secure_vector<std::uint8_t> digest = sha256->final();
  const std::string key(reinterpret_cast<const char*>(digest.data()), digest.size());
  {
    const std::lock_guard lock(m_mutex);
    const auto it = m_verified.find(key);
    if (it != m_verified.end()) {
      if (it->second.exp > now) {
        return it->second.token;
      }
      m_verified.erase(it);
    }
  }
  VerifiedToken verified = verify_signature_and_claims(token, keyring, issuer, audience, now);
  const std::int64_t exp = verified.claims.at("exp").as_int64();
  const std::lock_guard lock(m_mutex);
  if (m_verified.size() >= kMaxRemembered) {
    m_verified.clear();  // crude, bounded, and enough: entries are cheap to rebuild
  }
  m_verified.emplace(key, Remembered{verified, exp});
  return verified;
}

VerifiedToken AccessTokenVerifier::verify_signature_and_claims(const std::string& token, const std::string& keyring,
                                                               const std::string& issuer, const std::string& audience,
                                                               std::int64_t now) const {
  const std::size_t a = token.find('.');
  const std::size_t b = a == std::string::npos ? a : token.find('.', a + 1);
  if (b == std::string::npos || token.find('.', b + 1) != std::string::npos) {
    bad_jwt("not a compact JWS");
  }
  const boost::json::object header = parse_part(std::string_view(token).substr(0, a), "header");
  const std::string alg = string_claim(header, "alg");
  if (alg != "ES256" && alg != "RS256" && alg != "EdDSA") {
    bad_jwt("algorithm not accepted");  // "none", HS256 and the rest
  }
  const std::shared_ptr<const VerificationKey> key = m_jwks.key(keyring, string_claim(header, "kid"));
  if (!key || key->alg != alg) {
    bad_jwt("unknown signing key");
  }
  const std::optional<std::string> sig = keyd::base64url_decode(std::string_view(token).substr(b + 1));
  if (!sig) {
    bad_jwt("signature is not base64url");
  }
  const std::string padding = alg == "ES256" ? "EMSA1(SHA-256)" : alg == "RS256" ? "EMSA3(SHA-256)" : "Pure";
  Botan::PK_Verifier verifier(*key->key, padding, Botan::IEEE_1363);
  if (!verifier.verify_message(reinterpret_cast<const std::uint8_t*>(token.data()), b,
                               reinterpret_cast<const std::uint8_t*>(sig->data()), sig->size())) {
    bad_jwt("signature does not verify");
  }
  VerifiedToken out;
  out.claims = parse_part(std::string_view(token).substr(a + 1, b - a - 1), "payload");
  if (string_claim(out.claims, "iss") != issuer) {
    bad_jwt("issued for another project");
  }
  if (!has_audience(out.claims, audience)) {
    bad_jwt("issued for another audience");
  }
  if (int_claim(out.claims, "exp") <= now) {
    bad_jwt("token is expired");
  }
  out.user_id = string_claim(out.claims, "sub");
  out.role = string_claim(out.claims, "role");
  if (const boost::json::value* sid = out.claims.if_contains("session_id"); sid != nullptr && sid->is_string()) {
    out.session_id = std::string(sid->as_string());
  }
  return out;
}

std::optional<std::string> bearer_token(const Request& req) {
  const auto it = req.headers.find("Authorization");
  if (it == req.headers.end()) {
    return std::nullopt;
  }
  const std::string& v = it->second;
  if (v.size() < 8 || ::strncasecmp(v.c_str(), "bearer ", 7) != 0) {
    return std::nullopt;
  }
  std::string token = v.substr(7);
  if (token.empty() || token.find_first_of(" \t") != std::string::npos || token.rfind("sb_", 0) == 0) {
    return std::nullopt;
  }
  return token;
}

}  // namespace orbitnest::authd
