#pragma once
// RFC 6238 TOTP (HMAC-SHA-1, 6 digits, 30 s steps) and the otpauth URI
// that authenticator apps read. Pure functions; keyd calls them with a seed
// it has just unsealed, and wipes it afterwards.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "hardening/secret_bytes.h"

namespace orbitnest::keyd {

inline constexpr std::int64_t kTotpPeriod = 30;
inline constexpr int kTotpDigits = 6;

// The code for time step `step` (= unix time / 30), zero-padded.
std::string totp_code(const hardening::SecretBytes& seed, std::uint64_t step, int digits = kTotpDigits);

// Checks `code` against steps t-1, t, t+1 of `unix_time`, every candidate
// compared in constant time. Returns the matched step, if any, that is
// greater than `last_used_step` (replays of a used step are refused).
std::optional<std::uint64_t> totp_match(const hardening::SecretBytes& seed, std::string_view code,
                                        std::int64_t unix_time, std::uint64_t last_used_step);

std::string base32_encode(const std::uint8_t* data, std::size_t size);
std::string otpauth_uri(const hardening::SecretBytes& seed, std::string_view issuer, std::string_view account);

}  // namespace orbitnest::keyd
