#include "authd/mail/outbox.h"

namespace orbitnest::authd {

void enqueue_email(pqxx::work& tx, const std::string& project_ref, const std::string& to, const std::string& subject,
                   const std::string& body, int ttl_seconds) {
  tx.exec_params(
      "INSERT INTO auth.outbox (project_ref, channel, recipient, subject, body, expires_at) "
      "VALUES ($1, 'email', $2, $3, $4, now() + make_interval(secs => $5))",
      project_ref, to, subject, body, ttl_seconds);
}

void enqueue_sms(pqxx::work& tx, const std::string& project_ref, const std::string& to_e164, const std::string& body,
                 int ttl_seconds) {
  tx.exec_params(
      "INSERT INTO auth.outbox (project_ref, channel, recipient, body, expires_at) "
      "VALUES ($1, 'sms', $2, $3, now() + make_interval(secs => $4))",
      project_ref, to_e164, body, ttl_seconds);
}

}  // namespace orbitnest::authd
