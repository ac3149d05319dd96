#include "authd/mail/curl_easy.h"

#include <stdexcept>

namespace orbitnest::authd {

CurlEasy make_curl_easy() {
  CurlEasy curl(curl_easy_init());
  if (!curl) {
    throw std::runtime_error("libcurl could not make a handle");
  }
  return curl;
}

void curl_slist_add(CurlSlist& list, const std::string& line) {
  // curl_slist_append returns NULL and leaves the list as it was on failure.
  curl_slist* grown = curl_slist_append(list.get(), line.c_str());
  if (grown == nullptr) {
    throw std::runtime_error("libcurl could not grow a list");
  }
  static_cast<void>(list.release());
  list.reset(grown);
}

void curl_secure_defaults(CURL* curl, const std::string& ca_file, long connect_timeout_s, long total_timeout_s) {
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, connect_timeout_s);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, total_timeout_s);
  // Certificates are always verified (libcurl's default, stated here so that
  // it never drifts); a private peer names its CA instead.
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!ca_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
}

std::string curl_form_escape(CURL* curl, std::string_view value) {
  const std::unique_ptr<char, decltype(&curl_free)> escaped(
      curl_easy_escape(curl, value.data(), static_cast<int>(value.size())), curl_free);
  if (!escaped) {
    throw std::runtime_error("libcurl could not escape a form value");
  }
  return escaped.get();
}

std::string curl_error_text(CURLcode rc, const char* error_buffer) {
  return error_buffer != nullptr && error_buffer[0] != '\0' ? std::string(error_buffer)
                                                            : std::string(curl_easy_strerror(rc));
}

}  // namespace orbitnest::authd
