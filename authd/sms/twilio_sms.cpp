#include "authd/sms/twilio_sms.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>

#include "authd/mail/curl_easy.h"

namespace orbitnest::authd {
namespace {

constexpr long kConnectTimeoutSeconds = 5;
constexpr long kTotalTimeoutSeconds = 10;
constexpr std::size_t kMaxResponse = 16 * 1024;  // Twilio's answers are far smaller
constexpr std::size_t kMaxReason = 300;

struct Response {
  std::string body;
  std::string retry_after;
};

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* r = static_cast<Response*>(user);
  const std::size_t len = size * n;
  r->body.append(data, std::min(len, kMaxResponse - std::min(kMaxResponse, r->body.size())));
  return len;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* r = static_cast<Response*>(user);
  const std::string_view line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {
    r->retry_after.clear();  // a new response (after a 100 Continue): only its own headers count
  }
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size() &&
      std::equal(kName.begin(), kName.end(), line.begin(),
                 [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); })) {
    std::string_view value = line.substr(kName.size());
    while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front()))) value.remove_prefix(1);
    while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.remove_suffix(1);
    r->retry_after.assign(value);
  }
  return size * n;
}

// Twilio's error document: {"code": 21211, "message": "...", "status": 400, ...}.
std::string twilio_reason(long status, std::string_view body) {
  boost::json::error_code ec;
  const boost::json::value v = boost::json::parse(body, ec);
  if (!ec && v.is_object()) {
    const boost::json::value* code = v.as_object().if_contains("code");
    const boost::json::value* message = v.as_object().if_contains("message");
    if (code != nullptr && code->is_int64() && message != nullptr && message->is_string()) {
      return "twilio " + std::to_string(code->as_int64()) + ": " + std::string(message->as_string());
    }
  }
  return "twilio HTTP " + std::to_string(status);
}

// A reason goes to last_error and the log: one line, bounded, and without
// the token or the message (Twilio could echo either one day).
std::string scrubbed(std::string reason, const std::string& auth_token, const std::string& body) {
  for (const std::string* secret : {&auth_token, &body}) {
    if (secret->empty()) {
      continue;
    }
    for (std::size_t at = reason.find(*secret); at != std::string::npos; at = reason.find(*secret, at)) {
      reason.replace(at, secret->size(), "[redacted]");
    }
  }
  std::replace_if(reason.begin(), reason.end(), [](unsigned char ch) { return ch < ' ' || ch == 0x7f; }, ' ');
  if (reason.size() > kMaxReason) {
    reason.resize(kMaxReason);
  }
  return reason;
}

}  // namespace

std::optional<int> retry_after_seconds(std::string_view header_value, std::time_t now) {
  if (header_value.empty()) {
    return std::nullopt;
  }
  long long seconds = 0;
  if (std::all_of(header_value.begin(), header_value.end(), [](unsigned char ch) { return std::isdigit(ch); })) {
    if (header_value.size() > 9) {
      seconds = 3600;
    } else {
      seconds = std::stoll(std::string(header_value));
    }
  } else {
    const std::time_t at = curl_getdate(std::string(header_value).c_str(), nullptr);
    if (at == -1) {
      return std::nullopt;
    }
    seconds = static_cast<long long>(at - now);
  }
  return static_cast<int>(std::clamp<long long>(seconds, 1, 3600));
}

Delivery twilio_delivery(long status, std::string_view response_body, std::optional<int> retry_after) {
  if (status >= 200 && status < 300) {
    return Delivery::sent();
  }
  const std::string reason = twilio_reason(status, response_body);
  if (status == 429 || status >= 500) {
    return Delivery::retry(reason, retry_after);
  }
  if (status >= 400 && status != 401) {
    return Delivery::failed(reason);
  }
  // 401: the account's credentials, fixed by the operator (project
  // twilio-token) while the code is still alive; 1xx/3xx: not Twilio's API
  // (a wrong api_base_url). Neither says anything about this message.
  return Delivery::retry(reason);
}

Delivery twilio_send(const TwilioSettings& twilio, const std::string& auth_token, const std::string& to,
                     const std::string& body) {
  const CurlEasy curl = make_curl_easy();
  const std::string url = twilio.api_base_url + "/2010-04-01/Accounts/" + twilio.account_sid + "/Messages.json";
  const std::string form =
      "To=" + curl_form_escape(curl.get(), to) +
      (twilio.messaging_service_sid.empty() ? "&From=" + curl_form_escape(curl.get(), twilio.from)
                                            : "&MessagingServiceSid=" + twilio.messaging_service_sid) +
      "&Body=" + curl_form_escape(curl.get(), body);
  CurlSlist headers;
  curl_slist_add(headers, "Accept: application/json");
  curl_slist_add(headers, "Expect:");  // no 100-continue round trip
  Response response;
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  // The settings allow http:// for a loopback test server only; nothing
  // else (and no redirect) is ever followed.
  curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "https,http");
  curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl.get(), CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
  curl_easy_setopt(curl.get(), CURLOPT_USERNAME, twilio.account_sid.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_PASSWORD, auth_token.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, form.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(form.size()));
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERDATA, &response);
  curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, error);
  curl_secure_defaults(curl.get(), twilio.ca_file, kConnectTimeoutSeconds, kTotalTimeoutSeconds);
  const CURLcode rc = curl_easy_perform(curl.get());
  if (rc != CURLE_OK) {
    return Delivery::retry(scrubbed("twilio: " + curl_error_text(rc, error), auth_token, body));
  }
  long status = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
  Delivery d = twilio_delivery(status, response.body, retry_after_seconds(response.retry_after, std::time(nullptr)));
  d.reason = scrubbed(std::move(d.reason), auth_token, body);
  return d;
}

}  // namespace orbitnest::authd
