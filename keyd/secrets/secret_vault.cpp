#include "keyd/secrets/secret_vault.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "keyd/pkcs11/secret_key.h"
#include "keyd/secrets/totp.h"

namespace orbitnest::keyd {
namespace {

constexpr std::uint8_t kBlobFormat = 1;
constexpr std::size_t kIvBytes = 12;
constexpr std::size_t kTagBytes = 16;
constexpr std::size_t kSeedBytes = 20;  // 160 bits, as RFC 4226 recommends
constexpr std::size_t kMaxPlaintext = 8 * 1024;

void check_purpose(std::string_view purpose) {
  const bool ok = !purpose.empty() && purpose.size() <= 32 &&
                  std::all_of(purpose.begin(), purpose.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
  if (!ok) {
    throw VaultRefused("a purpose is 1-32 characters of a-z and '_'");
  }
}

std::string associated_data(std::string_view domain, std::string_view purpose, std::string_view aad) {
  std::string out(domain);
  out += '\0';
  out += purpose;
  out += '\0';
  out += aad;
  return out;
}

std::string u32_be(std::uint32_t v) {
  return std::string{static_cast<char>(v >> 24), static_cast<char>((v >> 16) & 0xff), static_cast<char>((v >> 8) & 0xff),
                     static_cast<char>(v & 0xff)};
}

}  // namespace

std::string SecretVault::seal(std::string_view purpose, std::string_view aad, std::string_view plaintext) {
  if (purpose == "totp") {
    // TOTP seeds are made here (totp_enroll), never handed in: a peer that
    // could seal a seed it knows could mint factors whose codes it knows.
    throw VaultRefused("purpose totp is keyd's own: use totp_enroll");
  }
  return seal_blob(purpose, aad, plaintext);
}

std::string SecretVault::seal_blob(std::string_view purpose, std::string_view aad, std::string_view plaintext) {
  check_purpose(purpose);
  if (plaintext.size() > kMaxPlaintext) {
    throw VaultRefused("at most 8 KiB can be sealed");
  }
  const SymmetricKey key = m_keys.current(SymmetricPurpose::sealing);
  const std::vector<std::uint8_t> iv_bytes = m_token.random_bytes(kIvBytes);
  const std::string iv(iv_bytes.begin(), iv_bytes.end());
  const std::string ad = associated_data("orbitnest-seal-v1", purpose, aad);
  const std::string ct = m_token.with_session(
      [&](p11::Session& s) { return p11::aes_gcm_encrypt(s, key.handle, iv, ad, plaintext); });
  return std::string(1, static_cast<char>(kBlobFormat)) + u32_be(static_cast<std::uint32_t>(key.version)) + iv + ct;
}

std::string SecretVault::open_blob(std::string_view purpose, std::string_view aad, std::string_view blob) {
  if (blob.size() < 1 + 4 + kIvBytes + kTagBytes || static_cast<std::uint8_t>(blob[0]) != kBlobFormat) {
    throw VaultRefused("not a sealed blob");
  }
  const std::uint32_t version = (static_cast<std::uint32_t>(static_cast<std::uint8_t>(blob[1])) << 24) |
                                (static_cast<std::uint32_t>(static_cast<std::uint8_t>(blob[2])) << 16) |
                                (static_cast<std::uint32_t>(static_cast<std::uint8_t>(blob[3])) << 8) |
                                static_cast<std::uint8_t>(blob[4]);
  const std::optional<SymmetricKey> key = m_keys.find(SymmetricPurpose::sealing, static_cast<int>(version));
  if (!key) {
    throw VaultRefused("the blob was sealed with a key version keyd no longer has");
  }
  const std::string_view iv = blob.substr(5, kIvBytes);
  const std::string_view ct = blob.substr(5 + kIvBytes);
  const std::string ad = associated_data("orbitnest-seal-v1", purpose, aad);
  try {
    return m_token.with_session([&](p11::Session& s) { return p11::aes_gcm_decrypt(s, key->handle, iv, ad, ct); });
  } catch (const p11::Pkcs11Error& e) {
    if (e.recoverable()) {
      throw;
    }
    throw VaultRefused("the blob does not open with this purpose and AAD (or was altered)");
  }
}

std::string SecretVault::unseal(std::string_view purpose, std::string_view aad, std::string_view blob) {
  check_purpose(purpose);
  if (purpose == "totp") {
    throw VaultRefused("TOTP seeds are never unsealed outside keyd; use totp_verify");
  }
  return open_blob(purpose, aad, blob);
}

MacResult SecretVault::mac(std::string_view purpose, std::string_view data, std::optional<int> version) {
  check_purpose(purpose);
  SymmetricKey key{0, 0};
  if (version) {
    const std::optional<SymmetricKey> k = m_keys.find(SymmetricPurpose::pepper, *version);
    if (!k) {
      throw VaultRefused("no pepper version " + std::to_string(*version));
    }
    key = *k;
  } else {
    key = m_keys.current(SymmetricPurpose::pepper);
  }
  const std::string input = associated_data("orbitnest-mac-v1", purpose, data);
  const std::string mac =
      m_token.with_session([&](p11::Session& s) { return p11::hmac_sha256(s, key.handle, input); });
  return MacResult{key.version, mac};
}

TotpEnrollment SecretVault::totp_enroll(std::string_view aad, std::string_view issuer, std::string_view account) {
  const std::vector<std::uint8_t> random = m_token.random_bytes(kSeedBytes);
  hardening::SecretBytes seed(kSeedBytes);
  std::memcpy(seed.data(), random.data(), kSeedBytes);
  TotpEnrollment out;
  out.otpauth_uri = otpauth_uri(seed, issuer, account);
  out.sealed_seed = seal_blob("totp", aad, std::string_view(reinterpret_cast<const char*>(seed.data()), seed.size()));
  return out;
}

std::optional<std::uint64_t> SecretVault::totp_verify(std::string_view blob, std::string_view aad,
                                                      std::string_view code, std::uint64_t last_used_step) {
  const std::int64_t unix_time =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  if (code.size() != kTotpDigits || !std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  std::string opened = open_blob("totp", aad, blob);
  hardening::SecretBytes seed(opened.size());
  std::memcpy(seed.data(), opened.data(), opened.size());
  ::explicit_bzero(opened.data(), opened.size());
  return totp_match(seed, code, unix_time, last_used_step);
}

}  // namespace orbitnest::keyd
