// The recovery-code shape: what a person may type (case, dash, spaces) is
// one code; anything else is not a recovery code (and is then tried as a
// TOTP code, or refused).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "authd/mfa/recovery_code_format.h"

namespace orbitnest::authd {
namespace {

TEST(RecoveryCodeFormat, TypedSpellingsAreOneCode) {
  for (const std::string& typed : std::vector<std::string>{"abcde-fghjk", "ABCDE-FGHJK", "abcdefghjk", " abcde fghjk "}) {
    EXPECT_EQ(normalized_recovery_code(typed), "abcdefghjk") << typed;
  }
}

TEST(RecoveryCodeFormat, OtherShapesAreNotRecoveryCodes) {
  for (const std::string& typed : std::vector<std::string>{
           "", "123456",            // a TOTP code
           "abcde-fghj",            // 9
           "abcde-fghjkm",          // 11
           "abcde-fghj0", "abcde-fghjl", "abcde-fghjo", "abcde-fghj1",  // look-alikes are not in the alphabet
           "abcde_fghjk", std::string("abcde\0fghjk", 11), "\xc3\xa4" "bcde-fghjk"}) {
    EXPECT_FALSE(looks_like_recovery_code(typed)) << typed;
  }
}

}  // namespace
}  // namespace orbitnest::authd
