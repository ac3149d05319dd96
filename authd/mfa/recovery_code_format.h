#pragma once
// The shape of an MFA recovery code: 10 characters of a 32-letter
// alphabet without look-alikes (0/o, 1/l), shown as "xxxxx-xxxxx", typed
// in any case with or without the dash and spaces.
#include <optional>
#include <string>
#include <string_view>

namespace orbitnest::authd {

inline constexpr std::string_view kRecoveryCodeAlphabet = "abcdefghijkmnpqrstuvwxyz23456789";
inline constexpr std::size_t kRecoveryCodeChars = 10;

// The code as stored (lower case, no dash), or nullopt for another shape.
std::optional<std::string> normalized_recovery_code(std::string_view typed);
inline bool looks_like_recovery_code(std::string_view typed) { return normalized_recovery_code(typed).has_value(); }

}  // namespace orbitnest::authd
