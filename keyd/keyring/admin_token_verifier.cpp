#include "keyd/keyring/admin_token_verifier.h"

#include <botan/exceptn.h>
#include <botan/pubkey.h>

#include <algorithm>
#include <memory>

#include "keyd/keyring/base64url.h"
#include "keyd/keyring/jwk_public_key.h"

namespace orbitnest::keyd {
namespace {

// Far above any real admin token; bounds the parsing keyd does for a peer.
constexpr std::size_t kMaxTokenBytes = 32 * 1024;

[[noreturn]] void refuse(const std::string& why) { throw KeyringRefused("admin token refused: " + why); }

bool allowed(const std::vector<std::string>& list, std::string_view v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

boost::json::object decode_object(std::string_view b64, const char* what) {
  const std::optional<std::string> raw = base64url_decode(b64);
  if (!raw) {
    refuse(std::string(what) + " is not base64url");
  }
  boost::json::error_code ec;
  boost::json::parse_options opts;
  opts.max_depth = 16;
  boost::json::value v = boost::json::parse(*raw, ec, {}, opts);
  if (ec || !v.is_object()) {
    refuse(std::string(what) + " is not a JSON object");
  }
  return std::move(v.as_object());
}

std::string_view string_member(const boost::json::object& o, const char* name) {
  const boost::json::value* v = o.if_contains(name);
  if (v == nullptr || !v->is_string() || v->as_string().empty()) {
    refuse(std::string(name) + " must be a non-empty string");
  }
  return v->as_string();
}

std::int64_t integer_claim(const boost::json::object& c, const char* name) {
  const boost::json::value* v = c.if_contains(name);
  if (v != nullptr && v->is_int64()) {
    return v->as_int64();
  }
  if (v != nullptr && v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(v->as_uint64());
  }
  refuse(std::string(name) + " must be an integer (seconds since the epoch)");
}

// Botan's name for the padding of each JOSE algorithm keyd signs with.
const char* padding_of(std::string_view alg) {
  if (alg == "ES256") {
    return "EMSA1(SHA-256)";
  }
  if (alg == "RS256") {
    return "EMSA3(SHA-256)";
  }
  if (alg == "EdDSA") {
    return "Pure";
  }
  return nullptr;  // "none", HS256 and everything else
}

// The admin key the kid names, among those keyd publishes for the admin
// keyring; its JWK says its algorithm.
boost::json::object published_admin_key(JwksPublisher& jwks, std::string_view kid) {
  const boost::json::value set = boost::json::parse(jwks.jwks(kAdminKeyring));
  for (const boost::json::value& k : set.at("keys").as_array()) {
    if (k.at("kid").as_string() == kid) {
      return k.as_object();
    }
  }
  refuse("kid is not a published key of the admin keyring");
}

}  // namespace

AdminIdentity check_admin_claims(const boost::json::object& c, const AdminTokenRules& rules, std::int64_t now) {
  if (string_member(c, "iss") != rules.issuer) {
    refuse("iss is not the admin issuer");
  }
  const boost::json::value* aud = c.if_contains("aud");
  const bool aud_ok =
      aud != nullptr &&
      ((aud->is_string() && allowed(rules.audiences, aud->as_string())) ||
       (aud->is_array() && !aud->as_array().empty() &&
        std::all_of(aud->as_array().begin(), aud->as_array().end(), [&](const boost::json::value& a) {
          return a.is_string() && allowed(rules.audiences, a.as_string());
        })));
  if (!aud_ok) {
    refuse("aud is not an admin audience");
  }
  AdminIdentity who;
  who.role = std::string(string_member(c, "role"));
  if (!allowed(rules.roles, who.role)) {
    refuse("role '" + who.role + "' is not an admin role");
  }
  who.sub = std::string(string_member(c, "sub"));
  const std::int64_t iat = integer_claim(c, "iat");
  const std::int64_t exp = integer_claim(c, "exp");
  if (exp <= now) {
    refuse("token has expired");
  }
  if (iat > now + rules.clock_skew_seconds) {
    refuse("iat is in the future");
  }
  if (exp <= iat || exp - iat > kMaxAdminTokenLifetimeSeconds) {
    refuse("lifetime (exp - iat) must be at most " + std::to_string(kMaxAdminTokenLifetimeSeconds) +
           " s for an admin token that changes keys");
  }
  if (c.contains("nbf") && integer_claim(c, "nbf") > now + rules.clock_skew_seconds) {
    refuse("nbf is in the future");
  }
  if (const boost::json::value* sid = c.if_contains("session_id"); sid != nullptr) {
    if (!sid->is_string()) {
      refuse("session_id must be a string");
    }
    who.session_id = std::string(sid->as_string());
  }
  return who;
}

AdminIdentity AdminTokenVerifier::verify(std::string_view token, std::int64_t now) {
  if (token.size() > kMaxTokenBytes) {
    refuse("larger than 32 KiB");
  }
  const std::size_t a = token.find('.');
  const std::size_t b = a == std::string_view::npos ? a : token.find('.', a + 1);
  if (b == std::string_view::npos || token.find('.', b + 1) != std::string_view::npos) {
    refuse("not a compact JWS");
  }
  const boost::json::object header = decode_object(token.substr(0, a), "header");
  const std::string alg(string_member(header, "alg"));
  const char* padding = padding_of(alg);
  if (padding == nullptr) {
    refuse("alg '" + alg + "' is not accepted (ES256, RS256 or EdDSA)");
  }
  if (header.contains("crit")) {
    refuse("crit header parameters are not understood");  // RFC 7515 §4.1.11
  }
  const boost::json::object jwk = published_admin_key(m_jwks, string_member(header, "kid"));
  if (jwk.at("alg").as_string() != alg) {
    refuse("alg " + alg + " does not match the key's " + std::string(jwk.at("alg").as_string()));
  }
  const std::optional<std::string> sig = base64url_decode(token.substr(b + 1));
  if (!sig) {
    refuse("signature is not base64url");
  }
  bool verified = false;
  try {
    const std::unique_ptr<Botan::Public_Key> key = public_key_from_jwk(jwk);
    Botan::PK_Verifier verifier(*key, padding, Botan::IEEE_1363);
    verified = verifier.verify_message(reinterpret_cast<const std::uint8_t*>(token.data()), b,
                                       reinterpret_cast<const std::uint8_t*>(sig->data()), sig->size());
  } catch (const Botan::Exception&) {
    verified = false;  // a malformed signature is one that does not verify
  }
  if (!verified) {
    refuse("signature does not verify");
  }
  // Only now is the payload the admin keyring's word.
  const boost::json::object claims = decode_object(token.substr(a + 1, b - a - 1), "payload");
  AdminTokenRules rules;
  rules.issuer = m_registry.read(
      [](const KeydStateFile& state) { return keyring_named(state, kAdminKeyring).issuer; });
  rules.audiences = m_cfg.keyrings.admin.audiences;
  rules.roles = m_cfg.keyrings.admin.roles;
  rules.clock_skew_seconds = m_cfg.keyrings.clock_skew_seconds;
  return check_admin_claims(claims, rules, now);
}

}  // namespace orbitnest::keyd
