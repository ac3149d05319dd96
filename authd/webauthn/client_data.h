#pragma once
// WebAuthn §5.8.1 CollectedClientData, as the browser serialised it. Read
// with a real JSON parser (member order, escaped slashes and unknown
// members such as androidPackageName vary between clients); the bytes
// themselves are what the authenticator signed (their SHA-256).
#include <string>
#include <string_view>

namespace orbitnest::authd::webauthn {

struct ClientData {
  std::string raw;  // clientDataJSON as sent
  std::string type;
  std::string challenge;  // as written (base64url of what we issued)
  std::string origin;
  bool cross_origin = false;
  bool has_top_origin = false;
};

// Throws WebAuthnError webauthn_malformed unless `raw` is UTF-8 JSON (a
// BOM is skipped) holding string type, challenge and origin.
ClientData parse_client_data(std::string_view raw);

}  // namespace orbitnest::authd::webauthn
