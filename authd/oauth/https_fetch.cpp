#include "authd/oauth/https_fetch.h"

#include <atomic>
#include <stdexcept>

#include "authd/mail/curl_easy.h"

namespace orbitnest::authd {
namespace {

constexpr long kConnectSeconds = 5;
constexpr long kTotalSeconds = 10;

std::atomic<int> g_in_flight{0};

// One of the kMaxProviderExchanges slots, for the exchange's lifetime.
class ExchangeSlot final {
 public:
  ExchangeSlot() {
    if (g_in_flight.fetch_add(1) >= kMaxProviderExchanges) {
      g_in_flight.fetch_sub(1);
      throw FetchBusy("too many exchanges with sign-in providers at once");
    }
  }
  ~ExchangeSlot() { g_in_flight.fetch_sub(1); }
  ExchangeSlot(const ExchangeSlot&) = delete;
  ExchangeSlot& operator=(const ExchangeSlot&) = delete;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  const std::size_t n = size * count;
  if (body->size() + n > kMaxProviderAnswerBytes) {
    return 0;  // libcurl stops with CURLE_WRITE_ERROR
  }
  body->append(data, n);
  return n;
}

std::string form_of(CURL* curl, const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string form;
  for (const auto& [name, value] : fields) {
    // Appended piece by piece: "literal" + std::string&& trips GCC 12's
    // -Wrestrict in the Release build (a false positive).
    if (!form.empty()) {
      form += '&';
    }
    form += curl_form_escape(curl, name);
    form += '=';
    form += curl_form_escape(curl, value);
  }
  return form;
}

}  // namespace

FetchAnswer https_fetch(const FetchRequest& request) {
  if (request.url.rfind("https://", 0) != 0) {
    throw std::runtime_error("an identity provider is reached over https only");
  }
  const ExchangeSlot slot;
  CurlEasy curl = make_curl_easy();
  curl_secure_defaults(curl.get(), request.ca_file, kConnectSeconds, kTotalSeconds);
  FetchAnswer answer;
  char error[CURL_ERROR_SIZE] = {};
  CurlSlist headers;
  curl_slist_add(headers, "Accept: application/json");
  curl_slist_add(headers, "User-Agent: OrbitNest-Auth");  // GitHub's API refuses requests without one
  if (!request.bearer.empty()) {
    curl_slist_add(headers, "Authorization: Bearer " + request.bearer);
  }
  const std::string form = form_of(curl.get(), request.form);
  curl_easy_setopt(curl.get(), CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl.get(), CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(kMaxProviderAnswerBytes));
  if (!request.form.empty()) {
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, form.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(form.size()));
  }
  // RFC 6749 §2.3.1: the client id and secret are form-encoded first.
  const std::string user = request.basic_user.empty() ? "" : curl_form_escape(curl.get(), request.basic_user);
  const std::string password = request.basic_user.empty() ? "" : curl_form_escape(curl.get(), request.basic_password);
  if (!user.empty()) {
    curl_easy_setopt(curl.get(), CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    curl_easy_setopt(curl.get(), CURLOPT_USERNAME, user.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_PASSWORD, password.c_str());
  }
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &answer.body);
  curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, error);
  const CURLcode rc = curl_easy_perform(curl.get());
  if (rc != CURLE_OK) {
    throw std::runtime_error(rc == CURLE_WRITE_ERROR || rc == CURLE_FILESIZE_EXCEEDED
                                 ? std::string("the provider's answer is larger than 1 MiB")
                                 : curl_error_text(rc, error));
  }
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &answer.status);
  return answer;
}

}  // namespace orbitnest::authd
