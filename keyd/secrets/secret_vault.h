#pragma once
// Sealing (AES-256-GCM under an HSM key), the pepper MAC (HMAC-SHA-256
// under an HSM key) and TOTP, for authd. Blobs and MACs carry the key
// version, so old ones stay usable after the sealing or pepper key rotates.
//
// Sealed blob: 0x01 | key version (u32) | 12-byte IV | ciphertext | tag.
// The GCM associated data binds the blob to its purpose and to the
// caller's AAD (e.g. a user id): opened for another purpose or user, the
// tag fails.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "keyd/keyring/symmetric_keys.h"
#include "keyd/pkcs11/token.h"

namespace orbitnest::keyd {

class VaultRefused final : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct TotpEnrollment {
  std::string otpauth_uri;  // shown once, to put into the authenticator app
  std::string sealed_seed;  // stored by authd; only keyd can use it
};

struct MacResult {
  int version;
  std::string mac;  // 32 bytes
};

class SecretVault final {
 public:
  // Sealing uses SymmetricPurpose::sealing, MACs SymmetricPurpose::pepper.
  SecretVault(SymmetricKeys& keys, p11::Token& token) : m_keys(keys), m_token(token) {}

  // Purpose "totp" is refused: seeds are made by totp_enroll only.
  std::string seal(std::string_view purpose, std::string_view aad, std::string_view plaintext);
  // "totp" blobs are never opened for a peer: TOTP is verified in keyd.
  std::string unseal(std::string_view purpose, std::string_view aad, std::string_view blob);
  MacResult mac(std::string_view purpose, std::string_view data, std::optional<int> version);
  TotpEnrollment totp_enroll(std::string_view aad, std::string_view issuer, std::string_view account);
  // Checks `code` at keyd's own clock (steps now-1, now, now+1); returns
  // the matched step if it is later than `last_used_step`.
  std::optional<std::uint64_t> totp_verify(std::string_view blob, std::string_view aad, std::string_view code,
                                           std::uint64_t last_used_step);

 private:
  std::string seal_blob(std::string_view purpose, std::string_view aad, std::string_view plaintext);
  std::string open_blob(std::string_view purpose, std::string_view aad, std::string_view blob);

  SymmetricKeys& m_keys;
  p11::Token& m_token;
};

}  // namespace orbitnest::keyd
