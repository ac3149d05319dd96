#pragma once
// One audit record: a JSON object on one line, chained to the line before
// it by "prev" (hex SHA-256 of that line's bytes). A checkpoint record also
// carries "sig": the audit key's ES256 signature over checkpoint_message().
#include <cstdint>
#include <string>
#include <string_view>

namespace orbitnest::keyd {

inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

std::string sha256_hex(std::string_view bytes);
// What a checkpoint signs: its own sequence number and the hash of the
// record before it, so it vouches for the whole chain up to there.
std::string checkpoint_message(std::uint64_t seq, std::string_view prev_hash);

}  // namespace orbitnest::keyd
