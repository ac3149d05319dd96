#include "keyd/audit/audit_record.h"

#include <botan/hash.h>
#include <botan/hex.h>

namespace orbitnest::keyd {

std::string sha256_hex(std::string_view bytes) {
  auto sha256 = Botan::HashFunction::create_or_throw("SHA-256");
  sha256->update(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  return Botan::hex_encode(sha256->final(), false);
}

std::string checkpoint_message(std::uint64_t seq, std::string_view prev_hash, std::uint64_t every) {
  return "orbitnest-audit-checkpoint-v2\n" + std::to_string(seq) + "\n" + std::string(prev_hash) + "\n" +
         std::to_string(every);
}

}  // namespace orbitnest::keyd
