#include "keyd/keyring/public_key_pem.h"

#include <botan/bigint.h>
#include <botan/ec_group.h>
#include <botan/ecdsa.h>
#include <botan/x509_key.h>

namespace orbitnest::keyd {

std::string ec_public_key_pem(const p11::PublicKey& key) {
  const Botan::EC_Group group("secp256r1");
  const Botan::BigInt x(reinterpret_cast<const std::uint8_t*>(key.x.data()), key.x.size());
  const Botan::BigInt y(reinterpret_cast<const std::uint8_t*>(key.y.data()), key.y.size());
  const Botan::ECDSA_PublicKey pub(group, group.point(x, y));
  return Botan::X509::PEM_encode(pub);
}

}  // namespace orbitnest::keyd
