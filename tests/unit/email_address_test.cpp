// The canonical form of an address: one spelling per mailbox, and every
// malformed or ambiguous input refused with a clear 400.
#include <gtest/gtest.h>

#include "authd/api/api_error.h"
#include "authd/flows/email_address.h"

namespace orbitnest::authd {
namespace {

TEST(EmailAddress, OneCanonicalFormPerMailbox) {
  EXPECT_EQ(canonical_email("  Kim@Example.COM\t"), "kim@example.com");
  EXPECT_EQ(canonical_email("o'neil+tag@sub.example.org"), "o'neil+tag@sub.example.org");
  // UTS #46: case, NFC and width fold to one A-label.
  EXPECT_EQ(canonical_email("jo@B\xC3\x9C" "CHER.example"), "jo@xn--bcher-kva.example");
  EXPECT_EQ(canonical_email("jo@bu\xCC\x88" "cher.example"), "jo@xn--bcher-kva.example");   // u + combining diaeresis
  EXPECT_EQ(canonical_email("jo@\xEF\xBD\x82\xC3\xBC" "cher.example"), "jo@xn--bcher-kva.example");  // fullwidth b
  EXPECT_EQ(canonical_email("jo@\xE2\x84\xAA" "iel.example"), "jo@kiel.example");  // KELVIN SIGN in a domain maps to k
  EXPECT_EQ(canonical_email("jo@xn--bcher-kva.example"), "jo@xn--bcher-kva.example");
}

TEST(EmailAddress, MalformedOrAmbiguousAddressesAreRefused) {
  const char* const bad[] = {
      "",
      "@example.com",
      "kim@",
      "kim",
      "kim@example",                         // no dot
      "kim@@example.com",
      "a@b@example.com",
      ".kim@example.com",
      "kim.@example.com",
      "k..im@example.com",
      "\"kim\"@example.com",                 // quoted local parts
      "kim smith@example.com",
      "kim@exa mple.com",
      "kim@example..com",
      "kim@-example.com",
      "kim@example.com.",
      "kim@127.0.0.1",
      "kim@[127.0.0.1]",
      "kim@exa_mple.com",
      "\xE2\x84\xAAim@example.com",          // KELVIN SIGN
      "\xC4\xB0m@example.com",               // I WITH DOT ABOVE
      "\xEF\xBD\x8B\xEF\xBD\x89\xEF\xBD\x8D@example.com",  // fullwidth kim
      "ki\xCC\x87m@example.com",             // combining dot above
      "kim@\xFF\xFE.com",                    // not UTF-8
      "kim@example.com\r\nBcc: x@y.com",
  };
  for (const char* raw : bad) {
    EXPECT_THROW(canonical_email(raw), ApiError) << raw;
  }
  EXPECT_THROW(canonical_email(std::string("kim\0x@example.com", 17)), ApiError);
  EXPECT_THROW(canonical_email(std::string(65, 'a') + "@example.com"), ApiError);
  EXPECT_THROW(canonical_email("a@" + std::string(250, 'b') + ".com"), ApiError);
  try {
    canonical_email("\xE2\x84\xAAim@example.com");
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 400);
    EXPECT_EQ(e.code(), "validation_failed");
    EXPECT_NE(std::string(e.what()).find("non-ASCII"), std::string::npos);
  }
}

}  // namespace
}  // namespace orbitnest::authd
