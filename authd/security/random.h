#pragma once
// Randomness for identifiers and tokens, from the OS (getrandom).
#include <cstddef>
#include <string>

namespace orbitnest::authd {

std::string random_bytes(std::size_t n);
std::string uuid_v4();
// The UUID (version 4 and RFC 4122 variant bits set) of 16 given bytes:
// uuid_v4() of random ones, or a stable id of a keyed hash's.
std::string uuid_v4_of(std::string bytes16);
// n random bytes as unpadded base64url (refresh tokens, API keys).
std::string random_token(std::size_t bytes);
// A code of `digits` decimal digits, uniformly distributed.
std::string random_digits(int digits);

}  // namespace orbitnest::authd
