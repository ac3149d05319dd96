#pragma once
// Names of authenticator models by AAGUID, for a user's list of passkeys
// ("iCloud Keychain", "YubiKey 5 Series"). A short list of the common
// ones (from the FIDO metadata and the community passkey AAGUID list);
// an unknown AAGUID has no name, and nothing trusts a name.
#include <optional>
#include <string>
#include <string_view>

namespace orbitnest::authd::webauthn {

// The 16 AAGUID bytes as a UUID string (8-4-4-4-12 hex).
std::string aaguid_text(std::string_view bytes);
std::optional<std::string> authenticator_name(std::string_view aaguid_bytes);

}  // namespace orbitnest::authd::webauthn
