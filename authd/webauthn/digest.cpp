#include "authd/webauthn/digest.h"

#include <botan/hash.h>

namespace orbitnest::authd::webauthn {

std::string sha256(std::string_view data) {
  std::unique_ptr<Botan::HashFunction> h = Botan::HashFunction::create_or_throw("SHA-256");
  h->update(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  const Botan::secure_vector<uint8_t> out = h->final();
  return std::string(out.begin(), out.end());
}

}  // namespace orbitnest::authd::webauthn
