#include "authd/mfa/recovery_code_format.h"

namespace orbitnest::authd {

std::optional<std::string> normalized_recovery_code(std::string_view typed) {
  std::string out;
  for (const char ch : typed) {
    if (ch == '-' || ch == ' ') {
      continue;
    }
    const char lower = (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch - 'A' + 'a') : ch;
    if (kRecoveryCodeAlphabet.find(lower) == std::string_view::npos || out.size() == kRecoveryCodeChars) {
      return std::nullopt;
    }
    out += lower;
  }
  return out.size() == kRecoveryCodeChars ? std::optional<std::string>(out) : std::nullopt;
}

}  // namespace orbitnest::authd
