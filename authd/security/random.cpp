#include "authd/security/random.h"

#include <botan/system_rng.h>

#include <array>
#include <cstdint>

#include "keyd/keyring/base64url.h"

namespace orbitnest::authd {

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  Botan::system_rng().randomize(reinterpret_cast<std::uint8_t*>(out.data()), n);
  return out;
}

std::string uuid_v4() { return uuid_v4_of(random_bytes(16)); }

std::string uuid_v4_of(std::string b) {
  b.resize(16);
  b[6] = static_cast<char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) {
      out += '-';
    }
    const auto u = static_cast<unsigned char>(b[i]);
    out += kHex[u >> 4];
    out += kHex[u & 15];
  }
  return out;
}

std::string random_token(std::size_t bytes) { return keyd::base64url_encode(random_bytes(bytes)); }

std::string random_digits(int digits) {
  std::string out;
  while (static_cast<int>(out.size()) < digits) {
    const auto v = static_cast<unsigned char>(random_bytes(1)[0]);
    if (v < 250) {  // reject 250..255 so that every digit is equally likely
      out += static_cast<char>('0' + v % 10);
    }
  }
  return out;
}

}  // namespace orbitnest::authd
