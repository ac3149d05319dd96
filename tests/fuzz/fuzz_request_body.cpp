// Fuzzes what authd reads from a request before any flow runs: the JSON
// body (JsonBody), the query (redirect_to), the email-link options (PKCE
// challenge, redirect allow list), the email address (canonical_email:
// the result must be ASCII, and canonical itself), the phone number
// (canonical_phone: digits only, canonical itself), an MFA code's
// recovery-code shape, and user_metadata. Bad input must end in ApiError —
// never a crash or another exception — and no link may carry a byte that
// could break out of the mail line it is written on.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "authd/api/api_error.h"
#include "authd/api/user_metadata.h"
#include "authd/flows/email_address.h"
#include "authd/flows/email_links.h"
#include "authd/flows/phone_number.h"
#include "authd/mfa/recovery_code_format.h"

using namespace orbitnest::authd;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  // Input: QUERY '\n' BODY
  const std::size_t nl = input.find('\n');
  Request req;
  req.method = "POST";
  req.query = input.substr(0, nl == std::string::npos ? 0 : nl);
  req.body = nl == std::string::npos ? input : input.substr(nl + 1);
  req.headers["Content-Type"] = "application/json";
  Project project;
  project.settings.site_url = "https://app.example";
  project.settings.redirect_urls = {"https://app.example.org/auth/", "io.example.app://login", "https://preview-*"};
  try {
    const JsonBody body = JsonBody::parse(req);
    const EmailLink link = email_link_for(project, req, body);
    const std::string url = email_link_url(link, "T0k", "signup");
    for (const char ch : url) {
      if (static_cast<unsigned char>(ch) <= ' ' || ch == 0x7f) {
        std::abort();  // a redirect_to that lets a line break into a mail
      }
    }
    if (const std::optional<std::string> verifier = body.string("code_verifier")) {
      (void)pkce_verifier_matches(*verifier, link.code_challenge, link.code_challenge_method);
    }
    if (const std::optional<boost::json::object> metadata = body.object("data")) {
      check_user_metadata(*metadata);
    }
    if (const std::optional<std::string> email = body.string("email")) {
      const std::string canonical = canonical_email(*email);
      for (const char ch : canonical) {
        if (static_cast<unsigned char>(ch) <= ' ' || static_cast<unsigned char>(ch) >= 0x7f) {
          std::abort();  // the stored form is printable ASCII, always
        }
      }
      if (canonical_email(canonical) != canonical) {
        std::abort();  // one spelling: the canonical form is its own canonical form
      }
    }
    if (const std::optional<std::string> phone = body.string("phone")) {
      const std::string canonical = canonical_phone(*phone);
      if (canonical.size() < 8 || canonical.size() > 15 ||
          canonical.find_first_not_of("0123456789") != std::string::npos || canonical_phone(e164(canonical)) != canonical) {
        std::abort();  // digits only, 8-15 of them, and one spelling
      }
    }
    if (const std::optional<std::string> code = body.string("code")) {
      (void)looks_like_recovery_code(*code);  // any bytes: a shape test, never a throw
    }
  } catch (const ApiError&) {
    // the clear error a client gets
  }
  return 0;
}
