#include "tests/support/jws_check.h"

#include <botan/bigint.h>
#include <botan/ec_group.h>
#include <botan/ecdsa.h>
#include <botan/ed25519.h>
#include <botan/pubkey.h>
#include <botan/rsa.h>
#include <botan/x509_key.h>

#include <boost/json.hpp>
#include <memory>
#include <stdexcept>

#include "keyd/keyring/base64url.h"
#include "keyd/keyring/jwk_public_key.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"

namespace orbitnest::test {
namespace {

std::unique_ptr<Botan::Public_Key> key_from_jwk(const boost::json::value& jwk) {
  return keyd::public_key_from_jwk(jwk.as_object());
}

const boost::json::value* find_key(const std::string& jwks_json, const std::string& kid) {
  static thread_local boost::json::value jwks;
  jwks = boost::json::parse(jwks_json);
  for (const boost::json::value& k : jwks.at("keys").as_array()) {
    if (k.at("kid").as_string() == kid) {
      return &k;
    }
  }
  return nullptr;
}

// r||s (32 + 32) → DER SEQUENCE { INTEGER r, INTEGER s } for openssl.
std::string ecdsa_der(const std::string& raw) {
  const auto integer = [](std::string v) {
    v.erase(0, std::min(v.find_first_not_of('\0'), v.size() - 1));
    if (static_cast<unsigned char>(v[0]) & 0x80) {
      v.insert(v.begin(), '\0');
    }
    return std::string{'\x02', static_cast<char>(v.size())} + v;
  };
  const std::string body = integer(raw.substr(0, 32)) + integer(raw.substr(32));
  return std::string{'\x30', static_cast<char>(body.size())} + body;
}

}  // namespace

JwsParts split_jws(const std::string& jws) {
  const std::size_t a = jws.find('.');
  const std::size_t b = jws.find('.', a + 1);
  if (a == std::string::npos || b == std::string::npos || jws.find('.', b + 1) != std::string::npos) {
    throw std::runtime_error("not a compact JWS");
  }
  JwsParts p;
  p.header_json = keyd::base64url_decode(jws.substr(0, a)).value();
  p.payload_json = keyd::base64url_decode(jws.substr(a + 1, b - a - 1)).value();
  p.signing_input = jws.substr(0, b);
  p.signature = keyd::base64url_decode(jws.substr(b + 1)).value();
  return p;
}

std::string botan_verify_jws(const std::string& jws, const std::string& jwks_json) {
  const JwsParts p = split_jws(jws);
  const boost::json::value header = boost::json::parse(p.header_json);
  const std::string kid(header.at("kid").as_string());
  const std::string alg(header.at("alg").as_string());
  const boost::json::value* jwk = find_key(jwks_json, kid);
  if (jwk == nullptr) {
    return "kid " + kid + " is not in the JWKS";
  }
  if (jwk->at("alg").as_string() != alg) {
    return "alg mismatch";
  }
  const std::unique_ptr<Botan::Public_Key> key = key_from_jwk(*jwk);
  const std::string padding = alg == "ES256" ? "EMSA1(SHA-256)" : alg == "RS256" ? "EMSA3(SHA-256)" : "Pure";
  Botan::PK_Verifier verifier(*key, padding, Botan::IEEE_1363);
  const bool ok = verifier.verify_message(reinterpret_cast<const std::uint8_t*>(p.signing_input.data()),
                                          p.signing_input.size(),
                                          reinterpret_cast<const std::uint8_t*>(p.signature.data()), p.signature.size());
  return ok ? "" : "signature does not verify";
}

std::string openssl_verify_jws(const std::string& jws, const std::string& jwks_json, const std::string& work_dir) {
  const JwsParts p = split_jws(jws);
  const boost::json::value header = boost::json::parse(p.header_json);
  const std::string alg(header.at("alg").as_string());
  const boost::json::value* jwk = find_key(jwks_json, std::string(header.at("kid").as_string()));
  if (jwk == nullptr) {
    return "kid not in the JWKS";
  }
  const std::unique_ptr<Botan::Public_Key> key = key_from_jwk(*jwk);
  write_file(work_dir + "/pub.pem", Botan::X509::PEM_encode(*key));
  write_file(work_dir + "/msg.bin", p.signing_input);
  write_file(work_dir + "/sig.bin", alg == "ES256" ? ecdsa_der(p.signature) : p.signature);
  std::vector<std::string> argv;
  if (alg == "EdDSA") {
    argv = {"/usr/bin/openssl", "pkeyutl", "-verify", "-pubin", "-inkey", work_dir + "/pub.pem", "-rawin",
            "-in", work_dir + "/msg.bin", "-sigfile", work_dir + "/sig.bin"};
  } else {
    argv = {"/usr/bin/openssl", "dgst", "-sha256", "-verify", work_dir + "/pub.pem", "-signature",
            work_dir + "/sig.bin", work_dir + "/msg.bin"};
  }
  const auto [code, out] = run_command(argv);
  return code == 0 ? "" : "openssl: " + out;
}

}  // namespace orbitnest::test
