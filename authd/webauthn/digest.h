#pragma once
// SHA-256 as WebAuthn uses it: rpIdHash, clientDataHash, the apple nonce.
#include <string>
#include <string_view>

namespace orbitnest::authd::webauthn {

std::string sha256(std::string_view data);  // 32 bytes

}  // namespace orbitnest::authd::webauthn
