#pragma once
// A QR code as an SVG document: what GoTrue returns as totp.qr_code (auth-js
// prefixes "data:image/svg+xml;utf-8," to show it). The matrix comes from
// libqrencode (the QR encoder Debian and qrencode(1) use); this file only
// draws its modules.
#include <string>
#include <string_view>

namespace orbitnest::authd {

// Throws std::runtime_error if `text` does not fit a QR code.
std::string qr_svg(std::string_view text);

}  // namespace orbitnest::authd
