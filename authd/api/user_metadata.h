#pragma once
// Bounds on user_metadata (signUp's options.data, updateUser's data). It is
// copied into every access token, and keyd refuses claims over 16 KiB: an
// unbounded value would lock its owner out (every later sign-in and refresh
// failing), so it is bounded at the door, before anything is stored. A NUL
// (\u0000) is refused too: Postgres jsonb cannot hold it.
#include <boost/json.hpp>

#include <cstddef>

namespace orbitnest::authd {

inline constexpr std::size_t kMaxUserMetadataBytes = 8 * 1024;  // serialized
inline constexpr int kMaxUserMetadataDepth = 8;                 // nested objects/arrays

// Throws ApiError 400 validation_failed naming the bound that was crossed.
void check_user_metadata(const boost::json::object& data);

}  // namespace orbitnest::authd
