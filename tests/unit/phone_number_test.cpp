// The one canonical form of a phone number: spellings of one number meet,
// and what cannot be written one way is refused.
#include <gtest/gtest.h>

#include "authd/api/api_error.h"
#include "authd/flows/phone_number.h"

#include <string>
#include <vector>

namespace orbitnest::authd {
namespace {

TEST(CanonicalPhone, SpellingsOfOneNumberAreOne) {
  for (const std::string spelling : {"+14155550123", "+1 415 555 0123", "+1 (415) 555-0123", "+1.415.555.0123",
                                     "0014155550123", "  +1-415-555-0123 "}) {
    EXPECT_EQ(canonical_phone(spelling), "14155550123") << spelling;
  }
  EXPECT_EQ(e164(canonical_phone("+44 20 7946 0018")), "+442079460018");
}

TEST(CanonicalPhone, MalformedNumbersAreRefused) {
  for (const std::string& bad : std::vector<std::string>{"", "+", "4155550123",            // no country code
                                "+1415555012a", "+1 415 555 0123 ext 2", "++14155550123", "+1+4155550123",
                                "+1234567",                        // 7 digits
                                "+1234567890123456",               // 16 digits
                                "+0123456789", "00", "+1\n4155550123", "\xef\xbc\x8b" "14155550123",  // fullwidth +
                                std::string(100, '1')}) {
    EXPECT_THROW(canonical_phone(bad), ApiError) << bad;
  }
}

}  // namespace
}  // namespace orbitnest::authd
