#pragma once
// One SMS through Twilio's Messages API (POST /2010-04-01/Accounts/{SID}/
// Messages.json, basic auth, form body), for the outbox's sms channel.
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "authd/mail/delivery.h"
#include "authd/realms/realm_settings.h"

namespace orbitnest::authd {

// Sends `body` to `to` (E.164) from twilio.messaging_service_sid, else
// twilio.from. TLS verified (system CAs or twilio.ca_file), 5 s to connect,
// 10 s in all. Sent on 2xx; retried on 429, 5xx, 401 (the project's
// credentials, which the operator can fix, not the message), and any
// connection error or timeout; failed for good on another 4xx (Twilio's
// {code, message} becomes "twilio CODE: MESSAGE"). Neither the token nor
// the body ever appears in the reason.
Delivery twilio_send(const TwilioSettings& twilio, const std::string& auth_token, const std::string& to,
                     const std::string& body);

// The pieces of twilio_send that need no network (unit-tested).
// An HTTP answer's status and body, with its Retry-After already read.
Delivery twilio_delivery(long status, std::string_view response_body, std::optional<int> retry_after_seconds);
// Retry-After as seconds from `now` (delta-seconds or an HTTP date), kept to
// 1 s .. 1 h; nothing when absent or unreadable.
std::optional<int> retry_after_seconds(std::string_view header_value, std::time_t now);

}  // namespace orbitnest::authd
