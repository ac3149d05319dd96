#pragma once
// A JWS in compact serialisation (RFC 7515 §7.1), as both of authd's token
// readers take it: our own access tokens (keys from keyd) and an OpenID
// provider's ID tokens (keys from its JWKS). Parsing is strict — three
// base64url parts, a JSON object header and payload — and the signature
// is checked only for the algorithms we accept (ES256, RS256, EdDSA):
// "none", the HMAC family and anything else are refused before any key
// is looked up.
#include <boost/json.hpp>
#include <botan/pk_keys.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace orbitnest::authd {

// What is wrong with a token, in words safe to show (no token bytes).
class JwsError final : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CompactJws {
  boost::json::object header;
  boost::json::object payload;
  std::string alg;  // the header's, one of the accepted ones
  std::string kid;  // the header's ("" when absent)
  std::string signing_input;  // header.payload, as signed
  std::string signature;      // raw bytes
};

// Throws JwsError. Tokens over kMaxCompactJwsBytes are refused unread.
inline constexpr std::size_t kMaxCompactJwsBytes = 32 * 1024;
CompactJws parse_compact_jws(std::string_view token);

// True when `jws` is signed by `key` with its alg (ES256 as IEEE P1363
// r||s, RS256 PKCS#1 v1.5, EdDSA Ed25519).
bool jws_signature_valid(const CompactJws& jws, const Botan::Public_Key& key);

// Claim readers: nullopt when absent or of another type.
std::optional<std::string> string_member(const boost::json::object& o, const char* name);
std::optional<std::int64_t> integer_member(const boost::json::object& o, const char* name);
// RFC 7519 §4.1.3: aud is a string or an array of strings.
bool has_audience(const boost::json::object& claims, const std::string& audience);

}  // namespace orbitnest::authd
