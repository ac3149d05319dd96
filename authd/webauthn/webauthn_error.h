#pragma once
// A ceremony that must be refused: a stable code for the API's error body
// (webauthn_*) and a message a developer can act on. The flows turn it into
// a 400; the verifier throws nothing else for bad input.
#include <stdexcept>
#include <string>

namespace orbitnest::authd::webauthn {

class WebAuthnError final : public std::runtime_error {
 public:
  WebAuthnError(std::string code, const std::string& message)
      : std::runtime_error(message), m_code(std::move(code)) {}
  const std::string& code() const { return m_code; }

 private:
  std::string m_code;
};

}  // namespace orbitnest::authd::webauthn
