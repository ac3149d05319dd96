#include "authd/flows/phone_number.h"

#include "authd/api/api_error.h"

namespace orbitnest::authd {
namespace {

[[noreturn]] void invalid(const std::string& why) {
  throw ApiError(400, "validation_failed", "Invalid phone number format (E.164 required): " + why);
}

}  // namespace

std::string canonical_phone(const std::string& raw) {
  if (raw.size() > 64) {
    invalid("longer than 64 characters");
  }
  std::string digits;
  bool plus = false;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char ch = raw[i];
    if (ch >= '0' && ch <= '9') {
      digits += ch;
    } else if (ch == '+' && digits.empty() && !plus) {
      plus = true;
    } else if (ch != ' ' && ch != '-' && ch != '.' && ch != '(' && ch != ')') {
      invalid("unexpected character");
    }
  }
  if (!plus && digits.rfind("00", 0) == 0) {
    digits.erase(0, 2);  // 00 is the international prefix in most of the world
  } else if (!plus) {
    invalid("start with + and the country code");
  }
  if (digits.size() < 8 || digits.size() > 15) {
    invalid("8 to 15 digits");
  }
  if (digits[0] == '0') {
    invalid("no country code starts with 0");
  }
  return digits;
}

}  // namespace orbitnest::authd
