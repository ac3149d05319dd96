#include "authd/tokens/compact_jws.h"

#include <botan/pubkey.h>

#include <algorithm>

#include "keyd/keyring/base64url.h"

namespace orbitnest::authd {
namespace {

boost::json::object decode_part(std::string_view b64, const char* what) {
  const std::optional<std::string> raw = keyd::base64url_decode(b64);
  if (!raw) {
    throw JwsError(std::string(what) + " is not base64url");
  }
  boost::json::error_code ec;
  boost::json::value v = boost::json::parse(*raw, ec);
  if (ec || !v.is_object()) {
    throw JwsError(std::string(what) + " is not a JSON object");
  }
  return std::move(v.as_object());
}

}  // namespace

std::optional<std::string> string_member(const boost::json::object& o, const char* name) {
  const boost::json::value* v = o.if_contains(name);
  if (v == nullptr || !v->is_string()) {
    return std::nullopt;
  }
  return std::string(v->as_string());
}

std::optional<std::int64_t> integer_member(const boost::json::object& o, const char* name) {
  const boost::json::value* v = o.if_contains(name);
  if (v == nullptr || !v->is_int64()) {
    return std::nullopt;
  }
  return v->as_int64();
}

bool has_audience(const boost::json::object& claims, const std::string& audience) {
  const boost::json::value* aud = claims.if_contains("aud");
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

CompactJws parse_compact_jws(std::string_view token) {
  if (token.size() > kMaxCompactJwsBytes) {
    throw JwsError("token is too large");
  }
  const std::size_t a = token.find('.');
  const std::size_t b = a == std::string_view::npos ? a : token.find('.', a + 1);
  if (b == std::string_view::npos || token.find('.', b + 1) != std::string_view::npos) {
    throw JwsError("not a compact JWS");
  }
  CompactJws jws;
  jws.header = decode_part(token.substr(0, a), "header");
  const std::optional<std::string> alg = string_member(jws.header, "alg");
  if (!alg || (*alg != "ES256" && *alg != "RS256" && *alg != "EdDSA")) {
    throw JwsError("algorithm not accepted");  // "none", HS256 and the rest
  }
  if (jws.header.contains("crit")) {
    throw JwsError("critical header parameters are not supported");
  }
  jws.alg = *alg;
  jws.kid = string_member(jws.header, "kid").value_or("");
  jws.payload = decode_part(token.substr(a + 1, b - a - 1), "payload");
  const std::optional<std::string> signature = keyd::base64url_decode(token.substr(b + 1));
  if (!signature) {
    throw JwsError("signature is not base64url");
  }
  jws.signature = *signature;
  jws.signing_input = std::string(token.substr(0, b));
  return jws;
}

bool jws_signature_valid(const CompactJws& jws, const Botan::Public_Key& key) {
  const bool ec = key.algo_name() == "ECDSA";
  const bool rsa = key.algo_name() == "RSA";
  const bool ed = key.algo_name() == "Ed25519";
  if ((jws.alg == "ES256" && !ec) || (jws.alg == "RS256" && !rsa) || (jws.alg == "EdDSA" && !ed)) {
    return false;  // a key of another kind never verifies (no algorithm confusion)
  }
  const std::string padding = ec ? "EMSA1(SHA-256)" : rsa ? "EMSA3(SHA-256)" : "Pure";
  Botan::PK_Verifier verifier(key, padding, Botan::IEEE_1363);
  return verifier.verify_message(reinterpret_cast<const std::uint8_t*>(jws.signing_input.data()),
                                 jws.signing_input.size(),
                                 reinterpret_cast<const std::uint8_t*>(jws.signature.data()), jws.signature.size());
}

}  // namespace orbitnest::authd
