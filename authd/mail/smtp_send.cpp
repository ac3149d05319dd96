#include "authd/mail/smtp_send.h"

#include <ctime>

#include "authd/mail/curl_easy.h"
#include "authd/security/random.h"

namespace orbitnest::authd {
namespace {

struct Payload {
  std::string data;
  std::size_t offset = 0;
};

size_t read_payload(char* buffer, size_t size, size_t n, void* user) {
  auto* p = static_cast<Payload*>(user);
  const std::size_t room = size * n;
  const std::size_t left = p->data.size() - p->offset;
  const std::size_t take = left < room ? left : room;
  p->data.copy(buffer, take, p->offset);
  p->offset += take;
  return take;
}

std::string rfc5322_date() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

// "Name <addr@host>" -> "<addr@host>"; "addr@host" -> "<addr@host>".
std::string envelope_address(const std::string& from) {
  const std::size_t lt = from.find('<');
  if (lt != std::string::npos) {
    return from.substr(lt);
  }
  return "<" + from + ">";
}

}  // namespace

std::string smtp_send(const SmtpSettings& smtp, const std::string& password, const std::string& to,
                      const std::string& subject, const std::string& body) {
  const std::string& from = smtp.from;
  const CurlEasy curl = make_curl_easy();
  CurlSlist rcpt;
  curl_slist_add(rcpt, "<" + to + ">");
  Payload payload;
  payload.data = "Date: " + rfc5322_date() + "\r\nTo: <" + to + ">\r\nFrom: " + from + "\r\nSubject: " + subject +
                 "\r\nMessage-ID: <" + uuid_v4() + "@orbitnest>\r\nMIME-Version: 1.0\r\n"
                 "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n";
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl.get(), CURLOPT_URL, smtp.url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_MAIL_FROM, envelope_address(from).c_str());
  curl_easy_setopt(curl.get(), CURLOPT_MAIL_RCPT, rcpt.get());
  curl_easy_setopt(curl.get(), CURLOPT_READFUNCTION, read_payload);
  curl_easy_setopt(curl.get(), CURLOPT_READDATA, &payload);
  curl_easy_setopt(curl.get(), CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, error);
  curl_secure_defaults(curl.get(), smtp.ca_file, 10L, 30L);
  if (smtp.starttls && smtp.url.rfind("smtp://", 0) == 0) {
    curl_easy_setopt(curl.get(), CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  }
  if (!smtp.username.empty()) {
    curl_easy_setopt(curl.get(), CURLOPT_USERNAME, smtp.username.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_PASSWORD, password.c_str());
  }
  const CURLcode rc = curl_easy_perform(curl.get());
  return rc == CURLE_OK ? std::string() : curl_error_text(rc, error);
}

}  // namespace orbitnest::authd
