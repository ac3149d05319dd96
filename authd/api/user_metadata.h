#pragma once
// Bounds on user_metadata (signUp's options.data, updateUser's data). It is
// copied into every access token, which travels in the Authorization
// header: 4 KiB of metadata makes a token of about 6.5 KB, inside authd's
// 8 KiB header limit (and keyd's 16 KiB claims limit) with room for the
// other headers. Anything larger would lock its owner out — every later
// request with the token refused — so it is bounded at the door, before
// anything is stored. A NUL (\u0000) is refused too: jsonb cannot hold it.
#include <boost/json.hpp>

#include <cstddef>

namespace orbitnest::authd {

inline constexpr std::size_t kMaxUserMetadataBytes = 4 * 1024;  // serialized
inline constexpr int kMaxUserMetadataDepth = 8;                 // nested objects/arrays

// Throws ApiError 400 validation_failed naming the bound that was crossed.
void check_user_metadata(const boost::json::object& data);

}  // namespace orbitnest::authd
