#pragma once
// The binary members of WebAuthn's JSON forms. Browsers send unpadded
// base64url, but real clients also pad it or use the standard alphabet
// (the vectors hold all three), so decoding accepts each; encoding is
// always unpadded base64url, as the W3C JSON forms specify.
#include <optional>
#include <string>
#include <string_view>

namespace orbitnest::authd::webauthn {

// nullopt for anything else (other characters, a bad length, bits set
// past the end).
std::optional<std::string> decode_base64_any(std::string_view text);
std::string encode_base64url(std::string_view bytes);

}  // namespace orbitnest::authd::webauthn
