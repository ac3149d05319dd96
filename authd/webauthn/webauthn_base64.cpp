#include "authd/webauthn/webauthn_base64.h"

#include "keyd/keyring/base64url.h"

namespace orbitnest::authd::webauthn {

std::optional<std::string> decode_base64_any(std::string_view text) {
  while (!text.empty() && text.back() == '=') {
    text.remove_suffix(1);
  }
  std::string url(text);
  for (char& ch : url) {
    if (ch == '+') {
      ch = '-';
    } else if (ch == '/') {
      ch = '_';
    }
  }
  return keyd::base64url_decode(url);
}

std::string encode_base64url(std::string_view bytes) { return keyd::base64url_encode(bytes); }

}  // namespace orbitnest::authd::webauthn
