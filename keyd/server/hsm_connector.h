#pragma once
// Opens the configured token: loads the module, reads the PIN, logs in and
// runs a self-test. Failures are classified so that keyd retries only what
// can heal by itself: a missing token or module may appear later, while a
// wrong PIN is never retried (retrying would walk into the token's lockout).
#include <memory>
#include <string>

#include "config/keyd_config.h"
#include "keyd/pkcs11/token.h"

namespace orbitnest::keyd {

struct HsmOpenResult {
  std::unique_ptr<p11::Token> token;  // set on success
  std::string problem;                // why not, on failure
  bool retry = false;                 // worth trying again later
};

HsmOpenResult open_hsm(const config::KeydHsmConfig& hsm);

}  // namespace orbitnest::keyd
