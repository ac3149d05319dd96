#pragma once
// The one canonical form of a phone number: E.164 digits without the "+"
// (GoTrue's stored and returned form), computed once at the edge and then
// stored, indexed and compared byte for byte. Spaces, dashes, dots and
// parentheses are dropped; a leading "+" or "00" is the international
// prefix; anything else (letters, a national number without country code,
// fewer than 8 or more than 15 digits, a leading 0 country code) is
// refused — a number we cannot write in one way is a number two accounts
// could share.
#include <string>

namespace orbitnest::authd {

// The canonical digits, or ApiError 400 validation_failed saying why not.
std::string canonical_phone(const std::string& raw);
// "+<digits>": the form SMS gateways take.
inline std::string e164(const std::string& canonical) { return "+" + canonical; }

}  // namespace orbitnest::authd
