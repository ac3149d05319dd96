// libFuzzer: authd's WebAuthn parsers and verifier on untrusted bytes.
// The first byte picks the target: authenticator data, a COSE key,
// clientDataJSON, a whole registration (the rest is the attestation
// object, under fixed client data), or an assertion response as JSON.
// Only WebAuthnError may come out; the sanitizers catch the rest.
#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

#include "authd/webauthn/authenticator_data.h"
#include "authd/webauthn/client_data.h"
#include "authd/webauthn/cose_key.h"
#include "authd/webauthn/relying_party.h"
#include "authd/webauthn/webauthn_base64.h"
#include "authd/webauthn/webauthn_error.h"

using namespace orbitnest::authd::webauthn;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::string input(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    switch (data[0] % 5) {
      case 0: parse_authenticator_data(input); break;
      case 1: parse_cose_key(input); break;
      case 2: parse_client_data(input); break;
      case 3: {
        RelyingParty rp;
        rp.rp_id = "localhost";
        rp.origins = {"http://localhost:5000"};
        rp.require_uv = false;
        RegistrationResponse r;
        r.client_data = parse_client_data(
            R"({"type":"webauthn.create","challenge":"Y2hhbGxlbmdl","origin":"http://localhost:5000"})");
        r.attestation_object = input;
        r.credential_id = "id";
        verify_registration(rp, r, "Y2hhbGxlbmdl");
        break;
      }
      default: {
        boost::json::error_code ec;
        const boost::json::value v = boost::json::parse(input, ec);
        if (!ec && v.is_object()) {
          const AssertionResponse a = read_assertion_response(v.as_object());
          RelyingParty rp;
          rp.rp_id = "localhost";
          rp.origins = {a.client_data.origin};
          verify_assertion(rp, a, a.client_data.challenge, StoredCredential{a.authenticator_data, 0, false});
        }
        break;
      }
    }
  } catch (const WebAuthnError&) {
  }
  return 0;
}
