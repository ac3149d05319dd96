#include "keyd/server/hsm_connector.h"

#include <cstdlib>

#include "hardening/secret_bytes.h"

namespace orbitnest::keyd {
namespace {

constexpr std::size_t kMaxPinBytes = 256;

hardening::SecretBytes read_pin(const config::KeydHsmConfig& hsm) {
  if (hsm.pin_credential) {
    const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
    if (dir == nullptr) {
      throw std::runtime_error("hsm.pin_credential is set but systemd passed no credentials (CREDENTIALS_DIRECTORY)");
    }
    return hardening::read_secret_file(std::string(dir) + "/" + *hsm.pin_credential, kMaxPinBytes);
  }
  return hardening::read_secret_file(*hsm.pin_file, kMaxPinBytes);
}

}  // namespace

HsmOpenResult open_hsm(const config::KeydHsmConfig& hsm) {
  HsmOpenResult result;
  try {
    auto module = std::make_shared<p11::Module>(hsm.module);
    hardening::SecretBytes pin = read_pin(hsm);
    auto token = std::make_unique<p11::Token>(module, hsm.token_label, std::move(pin), hsm.sessions);
    // Self-test: the token answers an operation on a pooled session.
    if (token->random_bytes(32).size() != 32) {
      throw std::runtime_error("self-test: C_GenerateRandom returned a short buffer");
    }
    result.token = std::move(token);
  } catch (const p11::Pkcs11Error& e) {
    result.problem = e.what();
    result.retry = e.rv() != CKR_PIN_INCORRECT && e.rv() != CKR_PIN_LOCKED && e.rv() != CKR_PIN_INVALID &&
                   e.rv() != CKR_PIN_LEN_RANGE;
  } catch (const std::exception& e) {
    result.problem = e.what();
    result.retry = true;
  }
  return result;
}

}  // namespace orbitnest::keyd
