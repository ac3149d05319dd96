#pragma once
// A software WebAuthn authenticator for integration tests: an ES256 key
// (Botan) and the exact bytes a browser and authenticator produce —
// clientDataJSON, authenticatorData, a `none` attestation object (CBOR by
// libcbor), DER signatures — in the W3C JSON forms authd takes. Knobs let
// a test produce what an attacker would: another origin or rp id, flags
// without UV, a counter that goes back, a signature by another key.
#include <boost/json.hpp>
#include <botan/auto_rng.h>
#include <botan/ecdsa.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace orbitnest::test {

class SoftAuthenticator final {
 public:
  static constexpr std::uint8_t kUp = 0x01, kUv = 0x04, kBe = 0x08, kBs = 0x10;

  explicit SoftAuthenticator(std::string rp_id);

  // RegistrationResponseJSON for `challenge` (the options' base64url text).
  boost::json::object registration(const std::string& challenge, const std::string& origin) const;
  // AuthenticationResponseJSON; the counter moves by one first.
  boost::json::object assertion(const std::string& challenge, const std::string& origin,
                                const std::optional<std::string>& user_handle);

  const std::string& credential_id() const { return m_credential_id; }
  std::string credential_id_b64() const;

  std::string rp_id;               // whose hash goes into authenticatorData
  std::uint8_t flags = kUp | kUv;  // of every response
  std::uint32_t counter = 0;
  // Sign with this authenticator's key instead (a credential's id with another's signature).
  const SoftAuthenticator* signer = nullptr;

 private:
  std::string auth_data(bool attested) const;
  std::string sign(const std::string& data) const;
  std::string cose_key() const;

  mutable Botan::AutoSeeded_RNG m_rng;
  std::unique_ptr<Botan::ECDSA_PrivateKey> m_key;
  std::string m_credential_id;
};

// {"type":..., "challenge":..., "origin":..., "crossOrigin":false}
std::string client_data_json(const std::string& type, const std::string& challenge, const std::string& origin);

}  // namespace orbitnest::test
