// How Twilio's answers become outbox outcomes: 2xx sent; 429, 5xx and 401
// retried (Retry-After honoured); any other 4xx failed for good, with
// Twilio's code and message as the reason.
#include <gtest/gtest.h>

#include "authd/sms/twilio_sms.h"

namespace orbitnest::authd {
namespace {

TEST(TwilioSms, TwoHundredsAreSent) {
  EXPECT_EQ(twilio_delivery(201, R"({"sid":"SM00","status":"queued"})", std::nullopt).outcome,
            Delivery::Outcome::sent);
  EXPECT_EQ(twilio_delivery(200, "", std::nullopt).outcome, Delivery::Outcome::sent);
}

TEST(TwilioSms, ARefusedMessageFailsForGoodWithTwiliosReason) {
  const Delivery d = twilio_delivery(
      400, R"({"code":21211,"message":"The 'To' number +1555 is not a valid phone number.","status":400})",
      std::nullopt);
  EXPECT_EQ(d.outcome, Delivery::Outcome::failed);
  EXPECT_EQ(d.reason, "twilio 21211: The 'To' number +1555 is not a valid phone number.");
  const Delivery not_json = twilio_delivery(404, "<html>not found</html>", std::nullopt);
  EXPECT_EQ(not_json.outcome, Delivery::Outcome::failed);
  EXPECT_EQ(not_json.reason, "twilio HTTP 404");
}

TEST(TwilioSms, BusyDownOrUnauthorisedIsRetried) {
  const Delivery busy = twilio_delivery(429, R"({"code":20429,"message":"Too Many Requests"})", 7);
  EXPECT_EQ(busy.outcome, Delivery::Outcome::retry);
  EXPECT_EQ(busy.reason, "twilio 20429: Too Many Requests");
  EXPECT_EQ(busy.retry_after_seconds, 7);
  EXPECT_EQ(twilio_delivery(500, "oops", std::nullopt).outcome, Delivery::Outcome::retry);
  EXPECT_EQ(twilio_delivery(503, "", 30).retry_after_seconds, 30);
  const Delivery unauthorised = twilio_delivery(401, R"({"code":20003,"message":"Authenticate"})", std::nullopt);
  EXPECT_EQ(unauthorised.outcome, Delivery::Outcome::retry);
  EXPECT_EQ(unauthorised.reason, "twilio 20003: Authenticate");
  EXPECT_EQ(twilio_delivery(302, "", std::nullopt).outcome, Delivery::Outcome::retry);
}

TEST(TwilioSms, RetryAfterIsSecondsOrADateKeptToAnHour) {
  const std::time_t now = 1'700'000'000;  // Tue, 14 Nov 2023 22:13:20 GMT
  EXPECT_EQ(retry_after_seconds("", now), std::nullopt);
  EXPECT_EQ(retry_after_seconds("12", now), 12);
  EXPECT_EQ(retry_after_seconds("0", now), 1);
  EXPECT_EQ(retry_after_seconds("86400", now), 3600);
  EXPECT_EQ(retry_after_seconds("99999999999999999999", now), 3600);
  EXPECT_EQ(retry_after_seconds("Tue, 14 Nov 2023 22:14:20 GMT", now), 60);
  EXPECT_EQ(retry_after_seconds("Tue, 14 Nov 2023 20:00:00 GMT", now), 1);
  EXPECT_EQ(retry_after_seconds("soon", now), std::nullopt);
  EXPECT_EQ(retry_after_seconds("-5", now), std::nullopt);
}

}  // namespace
}  // namespace orbitnest::authd
