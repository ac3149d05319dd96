// The claim rules of an admin token keyd acts on (rotate_by_admin), one
// by one; the signature side runs against a real keyd in
// tests/integration/keyd_admin_rotation_test.cpp.
#include <gtest/gtest.h>

#include "keyd/keyring/admin_token_verifier.h"

namespace orbitnest::keyd {
namespace {

constexpr std::int64_t kNow = 1'700'000'000;

AdminTokenRules rules() { return AdminTokenRules{"https://localhost/admin", {"orbitnest-admin"}, {"admin"}, 60}; }

boost::json::object claims() {
  return boost::json::object{{"iss", "https://localhost/admin"}, {"sub", "ops-7"}, {"aud", "orbitnest-admin"},
                             {"role", "admin"}, {"iat", kNow}, {"exp", kNow + 300}};
}

// The refusal message, or "accepted".
std::string verdict(const boost::json::object& c) {
  try {
    check_admin_claims(c, rules(), kNow);
    return "accepted";
  } catch (const KeyringRefused& e) {
    return e.what();
  }
}

template <typename Change>
std::string verdict_with(Change change) {
  boost::json::object c = claims();
  change(c);
  return verdict(c);
}

TEST(AdminTokenClaims, AValidTokenNamesItsAdmin) {
  boost::json::object c = claims();
  c["session_id"] = "sess-1";
  const AdminIdentity who = check_admin_claims(c, rules(), kNow);
  EXPECT_EQ(who.actor(), "admin:ops-7");
  EXPECT_EQ(who.role, "admin");
  EXPECT_EQ(who.session_id, "sess-1");
  EXPECT_EQ(check_admin_claims(claims(), rules(), kNow).session_id, "");
}

TEST(AdminTokenClaims, AProjectIssuerAudienceOrRoleIsRefused) {
  EXPECT_NE(verdict_with([](auto& c) { c["iss"] = "https://localhost/projects/demo/auth/v1"; }).find("iss is not the admin issuer"),
            std::string::npos);
  EXPECT_NE(verdict_with([](auto& c) { c["aud"] = "authenticated"; }).find("aud is not an admin audience"),
            std::string::npos);
  EXPECT_NE(verdict_with([](auto& c) { c["aud"] = boost::json::array{"orbitnest-admin", "authenticated"}; })
                .find("aud is not an admin audience"),
            std::string::npos);
  EXPECT_EQ(verdict_with([](auto& c) { c["aud"] = boost::json::array{"orbitnest-admin"}; }), "accepted");
  for (const char* role : {"authenticated", "anon", "service_role", "supabase_admin"}) {
    EXPECT_NE(verdict_with([&](auto& c) { c["role"] = role; }).find("is not an admin role"), std::string::npos) << role;
  }
  EXPECT_NE(verdict_with([](auto& c) { c.erase("sub"); }).find("sub must be"), std::string::npos);
  EXPECT_NE(verdict_with([](auto& c) { c["session_id"] = 7; }).find("session_id"), std::string::npos);
}

TEST(AdminTokenClaims, OnlyFreshShortLivedTokensPass) {
  EXPECT_NE(verdict_with([](auto& c) { c["exp"] = kNow; }).find("expired"), std::string::npos);
  EXPECT_NE(verdict_with([](auto& c) { c["exp"] = "soon"; }).find("exp must be an integer"), std::string::npos);
  // 15 minutes at most, whatever keyd would sign.
  EXPECT_EQ(verdict_with([](auto& c) { c["exp"] = kNow + 900; }), "accepted");
  EXPECT_NE(verdict_with([](auto& c) { c["exp"] = kNow + 901; }).find("at most 900 s"), std::string::npos);
  // Issued a while ago but inside its 15 minutes: fine.
  EXPECT_EQ(verdict_with([](auto& c) {
              c["iat"] = kNow - 800;
              c["exp"] = kNow + 100;
            }),
            "accepted");
  // iat within the skew ahead of keyd's clock passes, beyond it does not.
  EXPECT_EQ(verdict_with([](auto& c) { c["iat"] = kNow + 60; }), "accepted");
  EXPECT_NE(verdict_with([](auto& c) { c["iat"] = kNow + 61; }).find("iat is in the future"), std::string::npos);
  EXPECT_NE(verdict_with([](auto& c) { c["exp"] = kNow - 1; c["iat"] = kNow - 2; }).find("expired"), std::string::npos);
  EXPECT_NE(verdict_with([](auto& c) { c["nbf"] = kNow + 61; }).find("nbf"), std::string::npos);
}

}  // namespace
}  // namespace orbitnest::keyd
