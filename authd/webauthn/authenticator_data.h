#pragma once
// WebAuthn §6.1 authenticator data: rpIdHash ‖ flags ‖ signCount ‖
// [attested credential data] ‖ [extensions]. The fixed header is read
// here; the COSE key and the extensions map are CBOR, read with libcbor.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace orbitnest::authd::webauthn {

// Flag bits (§6.1).
inline constexpr std::uint8_t kFlagUp = 0x01, kFlagUv = 0x04, kFlagBe = 0x08, kFlagBs = 0x10, kFlagAt = 0x40,
                              kFlagEd = 0x80;

struct AttestedCredential {
  std::string aaguid;         // 16 bytes
  std::string credential_id;  // 1..1023 bytes
  std::string public_key_cose;  // the COSE_Key's CBOR bytes
};

// Authenticator extensions libfido2's verifiers insist on being told about.
struct AuthenticatorExtensions {
  bool hmac_secret = false;
  int cred_protect = 0;  // 0: absent
  bool cred_blob = false;
  int min_pin_length = -1;  // -1: absent
};

struct AuthenticatorData {
  std::string raw;  // the whole bytes, as signed
  std::string rp_id_hash;  // 32 bytes
  std::uint8_t flags = 0;
  std::uint32_t sign_count = 0;
  std::optional<AttestedCredential> attested;
  AuthenticatorExtensions extensions;

  bool up() const { return (flags & kFlagUp) != 0; }
  bool uv() const { return (flags & kFlagUv) != 0; }
  bool be() const { return (flags & kFlagBe) != 0; }
  bool bs() const { return (flags & kFlagBs) != 0; }
};

// Throws WebAuthnError webauthn_malformed for anything not well formed,
// trailing bytes included.
AuthenticatorData parse_authenticator_data(std::string_view bytes);

}  // namespace orbitnest::authd::webauthn
