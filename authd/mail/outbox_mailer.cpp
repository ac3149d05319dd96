#include "authd/mail/outbox_mailer.h"

#include <curl/curl.h>

#include <boost/json.hpp>
#include <chrono>
#include <ctime>
#include <memory>

#include "authd/mail/outbox.h"
#include "authd/projects/project.h"
#include "authd/security/random.h"
#include "keyd/keyring/base64url.h"
#include "systemd/log.h"

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

void enqueue_email(pqxx::work& tx, const std::string& project_ref, const std::string& to, const std::string& subject,
                   const std::string& body, int ttl_seconds) {
  tx.exec_params(
      "INSERT INTO auth.outbox (project_ref, channel, recipient, subject, body, expires_at) "
      "VALUES ($1, 'email', $2, $3, $4, now() + make_interval(secs => $5))",
      project_ref, to, subject, body, ttl_seconds);
}

std::string smtp_send(const SmtpSettings& smtp, const std::string& password, const std::string& to,
                      const std::string& subject, const std::string& body) {
  const std::string& from = smtp.from;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> rcpt(curl_slist_append(nullptr, ("<" + to + ">").c_str()),
                                                                  curl_slist_free_all);
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
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, error);
  if (smtp.starttls && smtp.url.rfind("smtp://", 0) == 0) {
    curl_easy_setopt(curl.get(), CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  }
  // Certificates are always verified (libcurl's default, stated here so that
  // it never drifts); a private relay names its CA instead.
  curl_easy_setopt(curl.get(), CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_SSL_VERIFYHOST, 2L);
  if (!smtp.ca_file.empty()) {
    curl_easy_setopt(curl.get(), CURLOPT_CAINFO, smtp.ca_file.c_str());
  }
  curl_easy_setopt(curl.get(), CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  if (!smtp.username.empty()) {
    curl_easy_setopt(curl.get(), CURLOPT_USERNAME, smtp.username.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_PASSWORD, password.c_str());
  }
  const CURLcode rc = curl_easy_perform(curl.get());
  if (rc != CURLE_OK) {
    return error[0] != '\0' ? std::string(error) : std::string(curl_easy_strerror(rc));
  }
  return "";
}

OutboxMailer::OutboxMailer(PgPool& pg, KeydLink& keyd) : m_pg(pg), m_keyd(keyd) {
  m_thread = std::thread([this] { run(); });
}

OutboxMailer::~OutboxMailer() {
  {
    const std::lock_guard lock(m_mutex);
    m_stopping = true;
  }
  m_cv.notify_all();
  m_thread.join();
}

void OutboxMailer::wake() {
  {
    const std::lock_guard lock(m_mutex);
    m_woken = true;
  }
  m_cv.notify_all();
}

void OutboxMailer::run() {
  std::unique_lock lock(m_mutex);
  while (!m_stopping) {
    m_cv.wait_for(lock, std::chrono::seconds(1), [this] { return m_stopping || m_woken; });
    m_woken = false;
    if (m_stopping) {
      break;
    }
    lock.unlock();
    try {
      while (send_due() > 0) {
      }
    } catch (const std::exception& e) {
      log::warning("authd.outbox_error", {{"reason", e.what()}});
    }
    lock.lock();
  }
}

int OutboxMailer::send_due() {
  PgPool::Lease conn = m_pg.lease();
  pqxx::work tx(*conn);
  // What expired unsent is given up: its code is dead, and its plaintext
  // goes now rather than sitting in the table.
  tx.exec("UPDATE auth.outbox SET body = '', last_error = 'expired before it could be delivered' "
          "WHERE sent_at IS NULL AND expires_at <= now() AND body <> ''");
  const pqxx::result due = tx.exec(
      "SELECT o.id, o.project_ref, o.recipient, o.subject, o.body, o.attempts, p.settings::text "
      "FROM auth.outbox o JOIN auth.projects p ON p.ref = o.project_ref "
      "WHERE o.sent_at IS NULL AND o.next_attempt_at <= now() AND (o.expires_at IS NULL OR o.expires_at > now()) "
      "ORDER BY o.id LIMIT 10 FOR UPDATE OF o SKIP LOCKED");
  int sent = 0;
  for (const pqxx::row& r : due) {
    const std::int64_t id = r[0].as<std::int64_t>();
    const std::string ref = r[1].as<std::string>();
    const int attempts = r[5].as<int>();
    const ProjectSettings s = ProjectSettings::from_json(boost::json::parse(r[6].as<std::string>()).as_object());
    std::string error;
    if (s.smtp.url.empty()) {
      error = "no SMTP relay configured for this project";
    } else {
      std::string password;
      if (!s.smtp.password_sealed.empty()) {
        const std::optional<std::string> blob = keyd::base64url_decode(s.smtp.password_sealed);
        password = blob ? m_keyd.client().unseal("smtp", ref, *blob) : "";
      }
      error = smtp_send(s.smtp, password, r[2].as<std::string>(), r[3].as<std::string>(), r[4].as<std::string>());
    }
    if (error.empty()) {
      tx.exec_params("UPDATE auth.outbox SET sent_at = now(), body = '', last_error = NULL WHERE id = $1", id);
      log::info("authd.mail_sent", {{"outbox_id", static_cast<long long>(id)}, {"project", ref}});
      ++sent;
    } else {
      const int backoff = std::min(3600, 5 << std::min(attempts, 10));
      tx.exec_params(
          "UPDATE auth.outbox SET attempts = attempts + 1, last_error = $2, "
          "next_attempt_at = now() + make_interval(secs => $3) WHERE id = $1",
          id, error, backoff);
      log::warning("authd.mail_deferred", {{"outbox_id", static_cast<long long>(id)}, {"project", ref},
                                           {"reason", error}, {"retry_in_s", backoff}});
    }
  }
  tx.commit();
  return sent;
}

}  // namespace orbitnest::authd
