#include "authd/tokens/access_token_verifier.h"

#include <botan/hash.h>
#include <strings.h>

#include "authd/api/api_error.h"
#include "authd/tokens/compact_jws.h"

namespace orbitnest::authd {
namespace {

[[noreturn]] void bad_jwt(const std::string& why) {
  throw ApiError(403, "bad_jwt", "invalid JWT: unable to parse or verify signature, " + why);
}

std::int64_t int_claim(const boost::json::object& c, const char* name) {
  const std::optional<std::int64_t> v = integer_member(c, name);
  if (!v) {
    bad_jwt(std::string("token has no integer ") + name);
  }
  return *v;
}

std::string string_claim(const boost::json::object& c, const char* name) {
  std::optional<std::string> v = string_member(c, name);
  if (!v) {
    bad_jwt(std::string("token has no ") + name);
  }
  return std::move(*v);
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
  CompactJws jws;
  try {
    jws = parse_compact_jws(token);
  } catch (const JwsError& e) {
    bad_jwt(e.what());
  }
  if (jws.kid.empty()) {
    bad_jwt("token has no kid");
  }
  const std::shared_ptr<const VerificationKey> key = m_jwks.key(keyring, jws.kid);
  if (!key || key->alg != jws.alg) {
    bad_jwt("unknown signing key");
  }
  if (!jws_signature_valid(jws, *key->key)) {
    bad_jwt("signature does not verify");
  }
  VerifiedToken out;
  out.claims = std::move(jws.payload);
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
