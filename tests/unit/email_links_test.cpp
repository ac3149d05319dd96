// Email links: which redirect_to a project allows, the URL a code mail
// carries, and the PKCE check (RFC 7636) of the exchange.
#include <gtest/gtest.h>

#include "authd/api/api_error.h"
#include "authd/flows/email_links.h"

namespace orbitnest::authd {
namespace {

ProjectSettings settings() {
  ProjectSettings s;
  s.site_url = "https://app.example";
  s.redirect_urls = {"https://app.example.org/auth/", "io.example.app://login", "https://preview-*"};
  return s;
}

TEST(EmailLinks, RedirectsUnderTheSiteOrAnAllowedUrlOnly) {
  const ProjectSettings s = settings();
  EXPECT_TRUE(redirect_allowed(s, "https://app.example"));
  EXPECT_TRUE(redirect_allowed(s, "https://app.example/welcome?x=1"));
  EXPECT_TRUE(redirect_allowed(s, "https://app.example#top"));
  EXPECT_TRUE(redirect_allowed(s, "https://app.example.org/auth/confirm"));
  EXPECT_TRUE(redirect_allowed(s, "io.example.app://login"));
  EXPECT_TRUE(redirect_allowed(s, "https://preview-42.example.net/"));
  // A longer host name is another site, not a path under this one.
  EXPECT_FALSE(redirect_allowed(s, "https://app.example.evil.test/"));
  EXPECT_FALSE(redirect_allowed(s, "https://app.exampleevil.test"));
  EXPECT_FALSE(redirect_allowed(s, "https://app.example.org/other"));
  EXPECT_FALSE(redirect_allowed(s, "http://app.example"));
  EXPECT_FALSE(redirect_allowed(s, "io.example.app://login-other"));
  // Nothing that could break out of the line it is mailed in.
  EXPECT_FALSE(redirect_allowed(s, "https://app.example/\r\nBcc: x@evil.test"));
  EXPECT_FALSE(redirect_allowed(s, "https://app.example/a b"));
}

TEST(EmailLinks, TheUrlCarriesTheTokenHashOrThePkceCode) {
  EmailLink plain{"https://app.example/auth/confirm", "", ""};
  EXPECT_EQ(email_link_url(plain, "T0k", "signup"), "https://app.example/auth/confirm?token_hash=T0k&type=signup");
  plain.redirect_to = "https://app.example/c?next=%2Fhome#frag";
  EXPECT_EQ(email_link_url(plain, "T0k", "recovery"),
            "https://app.example/c?next=%2Fhome&token_hash=T0k&type=recovery#frag");
  const EmailLink pkce{"https://app.example/auth/callback", std::string(43, 'a'), "s256"};
  EXPECT_EQ(email_link_url(pkce, "C0de", "email"), "https://app.example/auth/callback?code=C0de");
}

TEST(EmailLinks, PkceVerifierChecksBothMethods) {
  // The S256 challenge computed with Python's hashlib:
  // base64url(sha256(verifier)) without padding.
  const std::string verifier = "dBjftJeZ4CVP-mJ92K9qXUq5f-LpWz1qqFHbEhWlc18";
  const std::string challenge = "WXPav6VQgXIp5oODaqfilGudVk-WfBtcuGeRU5Wadqo";
  EXPECT_TRUE(pkce_verifier_matches(verifier, challenge, "s256"));
  EXPECT_FALSE(pkce_verifier_matches(verifier + "x", challenge, "s256"));
  EXPECT_FALSE(pkce_verifier_matches(verifier, challenge, "plain"));
  EXPECT_TRUE(pkce_verifier_matches(verifier, verifier, "plain"));
  EXPECT_FALSE(pkce_verifier_matches(verifier, verifier, "S512"));
  // RFC 7636 §4.1: 43 to 128 unreserved characters.
  EXPECT_FALSE(pkce_verifier_matches("short", "short", "plain"));
  EXPECT_FALSE(pkce_verifier_matches(std::string(129, 'a'), std::string(129, 'a'), "plain"));
  EXPECT_FALSE(pkce_verifier_matches(std::string(42, 'a') + "/", std::string(42, 'a') + "/", "plain"));
}

}  // namespace
}  // namespace orbitnest::authd
