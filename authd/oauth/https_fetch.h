#pragma once
// One HTTPS exchange with an identity provider (discovery, JWKS, the token
// endpoint), through libcurl with curl_easy.h's secure defaults: verified
// certificates, TLS >= 1.2, https only, no redirects followed, bounded
// time, and an answer of at most 1 MiB (a provider is a third party: its
// bytes are untrusted input like a client's).
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace orbitnest::authd {

inline constexpr std::size_t kMaxProviderAnswerBytes = 1024 * 1024;
// Exchanges with providers in flight at once, in the whole process: a
// provider that is down or slow holds at most this many worker threads
// (each for at most the exchange's 10 s), never the pool the APIs share.
inline constexpr int kMaxProviderExchanges = 8;

// Thrown instead of waiting when kMaxProviderExchanges are in flight.
class FetchBusy final : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct FetchRequest {
  std::string url;
  // Form fields for a POST (application/x-www-form-urlencoded); GET when empty.
  std::vector<std::pair<std::string, std::string>> form;
  std::string basic_user;      // HTTP Basic (client_secret_basic) when not empty
  std::string basic_password;
  std::string bearer;          // Authorization: Bearer, when not empty
  std::string ca_file;  // extra CA certificates; the system's otherwise
};

struct FetchAnswer {
  long status = 0;
  std::string body;
};

// Throws std::runtime_error when the exchange fails (connection, TLS,
// timeout, an answer over the bound); an HTTP error status is an answer.
FetchAnswer https_fetch(const FetchRequest& request);

}  // namespace orbitnest::authd
