#pragma once
// base64url without padding (RFC 4648 §5), as JOSE uses it.
#include <optional>
#include <string>
#include <string_view>

namespace orbitnest::keyd {

std::string base64url_encode(std::string_view bytes);
// nullopt for anything that is not canonical unpadded base64url.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace orbitnest::keyd
