#include "keyd/secrets/totp.h"

#include <botan/mac.h>

#include <array>

namespace orbitnest::keyd {
namespace {

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

std::string uri_escape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~' || c == '@') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

}  // namespace

std::string totp_code(const hardening::SecretBytes& seed, std::uint64_t step, int digits) {
  auto hmac = Botan::MessageAuthenticationCode::create_or_throw("HMAC(SHA-1)");
  hmac->set_key(seed.data(), seed.size());
  std::array<std::uint8_t, 8> counter{};
  for (int i = 7; i >= 0; --i) {
    counter[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(step & 0xff);
    step >>= 8;
  }
  hmac->update(counter.data(), counter.size());
  const Botan::secure_vector<std::uint8_t> mac = hmac->final();
  const std::size_t offset = mac[mac.size() - 1] & 0x0f;
  const std::uint32_t binary = ((mac[offset] & 0x7fu) << 24) | (mac[offset + 1] << 16) | (mac[offset + 2] << 8) |
                               mac[offset + 3];
  std::uint32_t modulus = 1;
  for (int i = 0; i < digits; ++i) {
    modulus *= 10;
  }
  std::string code = std::to_string(binary % modulus);
  return std::string(static_cast<std::size_t>(digits) - code.size(), '0') + code;
}

std::optional<std::uint64_t> totp_match(const hardening::SecretBytes& seed, std::string_view code,
                                        std::int64_t unix_time, std::uint64_t last_used_step) {
  if (unix_time < kTotpPeriod) {
    return std::nullopt;
  }
  const auto now_step = static_cast<std::uint64_t>(unix_time / kTotpPeriod);
  std::optional<std::uint64_t> matched;
  // All three are computed and compared whatever matches, so the time
  // taken says nothing about which step (if any) was right.
  for (const std::uint64_t step : {now_step - 1, now_step, now_step + 1}) {
    const bool equal = constant_time_equal(totp_code(seed, step), code);
    if (equal && step > last_used_step && !matched) {
      matched = step;
    }
  }
  return matched;
}

std::string base32_encode(const std::uint8_t* data, std::size_t size) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (std::size_t i = 0; i < size; ++i) {
    buffer = (buffer << 8) | data[i];
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += kAlphabet[(buffer >> bits) & 31];
    }
  }
  if (bits > 0) {
    out += kAlphabet[(buffer << (5 - bits)) & 31];
  }
  return out;
}

std::string otpauth_uri(const hardening::SecretBytes& seed, std::string_view issuer, std::string_view account) {
  return "otpauth://totp/" + uri_escape(issuer) + ":" + uri_escape(account) +
         "?secret=" + base32_encode(seed.data(), seed.size()) + "&issuer=" + uri_escape(issuer) +
         "&algorithm=SHA1&digits=6&period=30";
}

}  // namespace orbitnest::keyd
