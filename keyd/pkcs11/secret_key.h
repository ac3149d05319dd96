#pragma once
// Symmetric keys inside the token: the AES-256-GCM sealing key and the
// HMAC-SHA-256 pepper. Both sensitive and non-extractable; keyd only ever
// sees what they produce.
#include <p11-kit/pkcs11.h>

#include <string>
#include <string_view>

#include "keyd/pkcs11/session.h"

namespace orbitnest::keyd::p11 {

enum class SecretKeyKind { aes_gcm_256, hmac_sha256 };

CK_OBJECT_HANDLE generate_secret_key(Session& s, SecretKeyKind kind, const std::string& label);
// Returns ciphertext || 16-byte tag.
std::string aes_gcm_encrypt(Session& s, CK_OBJECT_HANDLE key, std::string_view iv, std::string_view aad,
                            std::string_view plaintext);
// Throws Pkcs11Error (CKR_ENCRYPTED_DATA_INVALID, ...) when the tag fails.
std::string aes_gcm_decrypt(Session& s, CK_OBJECT_HANDLE key, std::string_view iv, std::string_view aad,
                            std::string_view ciphertext_and_tag);
std::string hmac_sha256(Session& s, CK_OBJECT_HANDLE key, std::string_view data);

}  // namespace orbitnest::keyd::p11
