#pragma once
// libcurl glue shared by the outbox's senders (SMTP, Twilio): owned handles,
// and the TLS and timeout options every outgoing connection must have, set
// in one place so that no sender can forget or loosen one.
#include <curl/curl.h>

#include <memory>
#include <string>
#include <string_view>

namespace orbitnest::authd {

struct CurlEasyCleanup {
  void operator()(CURL* c) const noexcept { curl_easy_cleanup(c); }
};
struct CurlSlistFree {
  void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};
using CurlEasy = std::unique_ptr<CURL, CurlEasyCleanup>;
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistFree>;

// A fresh easy handle; throws std::runtime_error when libcurl cannot make one.
CurlEasy make_curl_easy();

// Appends `line` to `list` (which may be empty); throws when out of memory.
void curl_slist_add(CurlSlist& list, const std::string& line);

// Certificates verified (against the system's CAs, or `ca_file` when not
// empty), TLS >= 1.2, no signals (the worker thread must not get SIGALRM),
// and both a connect and a total timeout, so that a peer that hangs holds
// the outbox for a bounded time.
void curl_secure_defaults(CURL* curl, const std::string& ca_file, long connect_timeout_s, long total_timeout_s);

// application/x-www-form-urlencoded value (curl_easy_escape: every byte but
// ALPHA / DIGIT / -._~ percent-encoded).
std::string curl_form_escape(CURL* curl, std::string_view value);

// What went wrong in curl_easy_perform: the error buffer's detail when it
// has one, else curl's text for the code.
std::string curl_error_text(CURLcode rc, const char* error_buffer);

}  // namespace orbitnest::authd
