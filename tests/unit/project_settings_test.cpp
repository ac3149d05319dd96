// Project settings as operators write them (`authd project settings`):
// every bad value is refused with its name, and what is accepted survives a
// round trip through the JSON stored in auth.projects.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "authd/projects/project.h"

namespace orbitnest::authd {
namespace {

ProjectSettings parse(const char* json) { return ProjectSettings::from_json(boost::json::parse(json).as_object()); }

std::string refusal(const char* json) {
  try {
    parse(json);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(ProjectSettings, DefaultsAreTheSafeOnesAndRoundTrip) {
  const ProjectSettings d = parse("{}");
  EXPECT_FALSE(d.debug_mode);
  EXPECT_EQ(d.otp_length, 4);
  EXPECT_EQ(d.otp_max_attempts, 5);
  EXPECT_EQ(d.refresh_reuse_seconds, 10);
  EXPECT_TRUE(d.smtp.starttls);
  const ProjectSettings s = parse(
      R"({"otp_length":6,"smtp":{"url":"smtps://mail.example.com:465","username":"u","ca_file":"/etc/ssl/relay.pem"}})");
  const ProjectSettings again = ProjectSettings::from_json(s.to_json());
  EXPECT_EQ(again.otp_length, 6);
  EXPECT_EQ(again.smtp.url, "smtps://mail.example.com:465");
  EXPECT_EQ(again.smtp.ca_file, "/etc/ssl/relay.pem");
  EXPECT_EQ(boost::json::serialize(again.to_json()), boost::json::serialize(s.to_json()));
}

TEST(ProjectSettings, BadValuesAreRefusedByName) {
  EXPECT_NE(refusal(R"({"otp_lenght":6})").find("unknown setting otp_lenght"), std::string::npos);
  EXPECT_NE(refusal(R"({"otp_length":3})").find("otp_length"), std::string::npos);
  EXPECT_NE(refusal(R"({"otp_length":11})").find("otp_length"), std::string::npos);
  EXPECT_NE(refusal(R"({"otp_length":"6"})").find("otp_length"), std::string::npos);
  EXPECT_NE(refusal(R"({"debug_mode":1})").find("debug_mode"), std::string::npos);
  EXPECT_NE(refusal(R"({"refresh_grace_seconds":3600})").find("refresh_grace_seconds"), std::string::npos);
  EXPECT_NE(refusal(R"({"refresh_reuse_seconds":61})").find("refresh_reuse_seconds"), std::string::npos);
  EXPECT_NE(refusal(R"({"smtp":"smtp://x"})").find("smtp must be an object"), std::string::npos);
  EXPECT_NE(refusal(R"({"smtp":{"url":"http://x"}})").find("smtp.url"), std::string::npos);
  EXPECT_NE(refusal(R"({"smtp":{"password":"plain"}})").find("unknown setting smtp.password"), std::string::npos);
  EXPECT_NE(refusal(R"({"smtp":{"ca_file":"relay.pem"}})").find("absolute"), std::string::npos);
  EXPECT_NE(refusal(R"j({"site_url":"javascript:alert(1)"})j").find("site_url"), std::string::npos);
  EXPECT_NE(refusal(R"({"redirect_urls":"https://app.example"})").find("redirect_urls"), std::string::npos);
  EXPECT_NE(refusal(R"({"redirect_urls":["https://app.example/a b"]})").find("redirect_urls"), std::string::npos);
  EXPECT_NE(refusal(R"({"redirect_urls":[7]})").find("redirect_urls"), std::string::npos);
}

// Projects stored before policy 0007 carry refresh_grace_seconds, nearly
// always its old default 0: that leaves the new 10 s window; a value an
// operator chose above 0 still sets it, and is saved under the new name.
TEST(ProjectSettings, TheOldRefreshGraceNameStillLoads) {
  EXPECT_EQ(parse(R"({"refresh_grace_seconds":0})").refresh_reuse_seconds, 10);
  EXPECT_EQ(parse(R"({"refresh_grace_seconds":30})").refresh_reuse_seconds, 30);
  EXPECT_EQ(parse(R"({"refresh_reuse_seconds":0})").refresh_reuse_seconds, 0);
  const boost::json::object saved = parse(R"({"refresh_grace_seconds":30})").to_json();
  EXPECT_FALSE(saved.contains("refresh_grace_seconds"));
  EXPECT_EQ(saved.at("refresh_reuse_seconds").as_int64(), 30);
}

TEST(ProjectSettings, RedirectUrlsTakeAppSchemesButNotScriptOnes) {
  const ProjectSettings s = parse(R"({"redirect_urls":["https://app.example/auth","io.example.app://login"]})");
  const ProjectSettings again = ProjectSettings::from_json(s.to_json());
  ASSERT_EQ(again.redirect_urls.size(), 2u);
  EXPECT_EQ(again.redirect_urls[1], "io.example.app://login");
  EXPECT_NE(refusal(R"({"redirect_urls":["javascript://x"]})").find("redirect_urls"), std::string::npos);
  EXPECT_NE(refusal(R"({"redirect_urls":["data://x"]})").find("redirect_urls"), std::string::npos);
  EXPECT_NE(refusal(R"({"site_url":"io.example.app://login"})").find("site_url"), std::string::npos);
}

TEST(ProjectSettings, TwilioIsOffUntilItsAccountTokenAndSenderAreSet) {
  const ProjectSettings d = parse("{}");
  EXPECT_FALSE(d.twilio.configured());
  EXPECT_EQ(d.twilio.api_base_url, "https://api.twilio.com");
  const char* const sid = "AC0123456789abcdef0123456789ABCDEF";
  const ProjectSettings s = parse(
      R"({"twilio":{"account_sid":"AC0123456789abcdef0123456789ABCDEF","auth_token_sealed":"blob","from":"+15005550006",)"
      R"("api_base_url":"https://127.0.0.1:8443/","ca_file":"/etc/ssl/twilio.pem"}})");
  EXPECT_TRUE(s.twilio.configured());
  EXPECT_EQ(s.twilio.account_sid, sid);
  EXPECT_EQ(s.twilio.api_base_url, "https://127.0.0.1:8443");  // the trailing slash dropped
  const ProjectSettings again = ProjectSettings::from_json(s.to_json());
  EXPECT_EQ(boost::json::serialize(again.to_json()), boost::json::serialize(s.to_json()));
  EXPECT_EQ(again.twilio.ca_file, "/etc/ssl/twilio.pem");
  EXPECT_EQ(again.twilio.from, "+15005550006");
  // A messaging service instead of a number; a token is still needed.
  EXPECT_TRUE(parse(R"({"twilio":{"account_sid":"AC0123456789abcdef0123456789abcdef","auth_token_sealed":"b",)"
                    R"("messaging_service_sid":"MG0123456789abcdef0123456789abcdef"}})")
                  .twilio.configured());
  EXPECT_FALSE(parse(R"({"twilio":{"account_sid":"AC0123456789abcdef0123456789abcdef","from":"+15005550006"}})")
                   .twilio.configured());
  EXPECT_FALSE(parse(R"({"twilio":{"account_sid":"AC0123456789abcdef0123456789abcdef","auth_token_sealed":"b"}})")
                   .twilio.configured());
  // http only to a loopback test server.
  EXPECT_EQ(parse(R"({"twilio":{"api_base_url":"http://localhost:9000"}})").twilio.api_base_url,
            "http://localhost:9000");
  EXPECT_EQ(parse(R"({"twilio":{"api_base_url":"http://[::1]:9000/twilio"}})").twilio.api_base_url,
            "http://[::1]:9000/twilio");
}

TEST(ProjectSettings, MalformedTwilioValuesAreRefusedByName) {
  EXPECT_NE(refusal(R"({"twilio":"AC00"})").find("twilio must be an object"), std::string::npos);
  EXPECT_NE(refusal(R"({"twilio":{"auth_token":"plain"}})").find("unknown setting twilio.auth_token"),
            std::string::npos);
  EXPECT_NE(refusal(R"({"twilio":{"account_sid":7}})").find("account_sid"), std::string::npos);
  for (const char* bad : {R"({"twilio":{"account_sid":"AC0123"}})",
                          R"({"twilio":{"account_sid":"MG0123456789abcdef0123456789abcdef"}})",
                          R"({"twilio":{"account_sid":"AC0123456789abcdef0123456789abcdeg"}})",
                          R"({"twilio":{"account_sid":"AC0123456789abcdef0123456789abcdef0"}})"}) {
    EXPECT_NE(refusal(bad).find("twilio.account_sid must be AC followed by 32 hex digits"), std::string::npos) << bad;
  }
  EXPECT_NE(refusal(R"({"twilio":{"messaging_service_sid":"AC0123456789abcdef0123456789abcdef"}})")
                .find("twilio.messaging_service_sid must be MG"),
            std::string::npos);
  for (const char* bad : {R"({"twilio":{"from":"15005550006"}})", R"({"twilio":{"from":"+1500555"}})",
                          R"({"twilio":{"from":"+1234567890123456"}})", R"({"twilio":{"from":"+1 500 555 0006"}})",
                          R"({"twilio":{"from":"+05005550006"}})", R"({"twilio":{"from":"+1500555000a"}})"}) {
    EXPECT_NE(refusal(bad).find("twilio.from must be an E.164 number"), std::string::npos) << bad;
  }
  EXPECT_NE(refusal(R"({"twilio":{"from":1}})").find("from must be a string"), std::string::npos);
  for (const char* bad : {R"({"twilio":{"api_base_url":"http://api.twilio.com"}})",
                          R"({"twilio":{"api_base_url":"http://127.0.0.2:80"}})",
                          R"({"twilio":{"api_base_url":"ftp://127.0.0.1"}})",
                          R"({"twilio":{"api_base_url":"https://"}})",
                          R"({"twilio":{"api_base_url":"https://user:pw@api.twilio.com"}})",
                          R"({"twilio":{"api_base_url":"https://api.twilio.com/?x=1"}})",
                          R"({"twilio":{"api_base_url":"https://api.twilio.com:99999999"}})",
                          R"({"twilio":{"api_base_url":"https://api twilio.com"}})",
                          R"({"twilio":{"api_base_url":"https://[::1"}})"}) {
    EXPECT_NE(refusal(bad).find("twilio.api_base_url"), std::string::npos) << bad;
  }
  EXPECT_NE(refusal(R"({"twilio":{"ca_file":"twilio.pem"}})").find("twilio.ca_file must be an absolute path"),
            std::string::npos);
}

}  // namespace
}  // namespace orbitnest::authd
