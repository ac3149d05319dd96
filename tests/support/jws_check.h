#pragma once
// Verifies a compact JWS against a JWKS, for tests: with Botan, and with
// the openssl command line as an independent second opinion.
#include <string>

namespace orbitnest::test {

struct JwsParts {
  std::string header_json;
  std::string payload_json;
  std::string signing_input;
  std::string signature;  // raw bytes
};

JwsParts split_jws(const std::string& jws);
// Empty when the JWS verifies with the key of its kid in `jwks_json`,
// else why not.
std::string botan_verify_jws(const std::string& jws, const std::string& jwks_json);
std::string openssl_verify_jws(const std::string& jws, const std::string& jwks_json, const std::string& work_dir);

}  // namespace orbitnest::test
