// Fuzzes what a sign-in provider sends that social sign-in reads: an
// OpenID provider's discovery document, JWKS and ID token
// (authd/oauth/id_token.h), and GitHub's user and email list (the first
// two parts again, github_client.h).
// The input is split in three at the first two NUL bytes; each part must
// be accepted or refused with ProviderError, nothing else, and the token
// is checked against the keys the fuzzer's own JWKS part yielded.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "authd/oauth/github_client.h"
#include "authd/oauth/id_token.h"

using orbitnest::authd::ProviderError;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t a = input.find('\0');
  const std::size_t b = a == std::string_view::npos ? a : input.find('\0', a + 1);
  const std::string_view discovery = input.substr(0, a);
  const std::string_view jwks = a == std::string_view::npos ? std::string_view() : input.substr(a + 1, b - a - 1);
  const std::string_view token = b == std::string_view::npos ? std::string_view() : input.substr(b + 1);
  try {
    (void)orbitnest::authd::parse_discovery(discovery, "https://issuer.example");
  } catch (const ProviderError&) {
  }
  orbitnest::authd::ProviderKeys keys;
  try {
    keys = orbitnest::authd::parse_jwks(jwks);
  } catch (const ProviderError&) {
  }
  try {
    (void)orbitnest::authd::github_identity(discovery, jwks);  // GitHub's /user and /user/emails
  } catch (const ProviderError&) {
  }
  try {
    (void)orbitnest::authd::verify_id_token(
        token, keys, orbitnest::authd::IdTokenCheck{"https://issuer.example", "client", "nonce", 1'800'000'000});
  } catch (const ProviderError&) {
  }
  return 0;
}
