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
// What a checkpoint signs: its own sequence number, the hash of the record
// before it (so it vouches for the whole chain up to there) and the spacing
// keyd promises from here on: at most `every` records before the next
// checkpoint. Signing the spacing keeps an attacker from relaxing it.
std::string checkpoint_message(std::uint64_t seq, std::string_view prev_hash, std::uint64_t every);

// Bounds of audit.checkpoint_every (config) and of a checkpoint's "every".
inline constexpr std::uint64_t kMaxCheckpointEvery = 100000;

}  // namespace orbitnest::keyd
