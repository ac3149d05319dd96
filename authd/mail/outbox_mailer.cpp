#include "authd/mail/outbox_mailer.h"

#include <string.h>  // explicit_bzero

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <optional>

#include "authd/mail/smtp_send.h"
#include "authd/sms/twilio_sms.h"
#include "keyd/keyring/base64url.h"
#include "systemd/log.h"

namespace orbitnest::authd {
namespace {

// A project secret is in the clear only for the one send it is unsealed for.
class WipedOnExit final {
 public:
  explicit WipedOnExit(std::string& s) : m_s(s) {}
  ~WipedOnExit() { ::explicit_bzero(m_s.data(), m_s.size()); }
  WipedOnExit(const WipedOnExit&) = delete;
  WipedOnExit& operator=(const WipedOnExit&) = delete;

 private:
  std::string& m_s;
};

// 5 s, doubling per attempt, at most an hour; or what the peer asked for.
int retry_delay_seconds(const Delivery& d, int attempts) {
  if (d.retry_after_seconds) {
    return std::clamp(*d.retry_after_seconds, 1, 3600);
  }
  return std::min(3600, 5 << std::min(attempts, 10));
}

}  // namespace

struct OutboxMailer::Message {
  std::int64_t id = 0;
  std::string project_ref;
  std::string channel;
  std::string recipient;
  std::string subject;
  std::string body;
  int attempts = 0;
};

OutboxMailer::OutboxMailer(PgPool& pg, KeydLink& keyd)
    : m_pg(pg), m_keyd(keyd), m_loop("outbox", std::chrono::seconds(1), [this] {
        while (send_due() > 0) {
        }
      }) {}

void OutboxMailer::wake() { m_loop.wake(); }

std::string OutboxMailer::unsealed(const char* purpose, const std::string& ref, const std::string& sealed) {
  if (sealed.empty()) {
    return "";
  }
  const std::optional<std::string> blob = keyd::base64url_decode(sealed);
  return blob ? m_keyd.client().unseal(purpose, ref, *blob) : "";
}

Delivery OutboxMailer::send_email(const Message& m, const ProjectSettings& s) {
  if (s.smtp.url.empty()) {
    return Delivery::retry("no SMTP relay configured for this project");
  }
  std::string password = unsealed("smtp", m.project_ref, s.smtp.password_sealed);
  const WipedOnExit wipe(password);
  const std::string error = smtp_send(s.smtp, password, m.recipient, m.subject, m.body);
  // Every SMTP failure is retried: a relay's refusal is as likely its own
  // trouble (or its configuration here) as the message's.
  return error.empty() ? Delivery::sent() : Delivery::retry(error);
}

Delivery OutboxMailer::send_sms(const Message& m, const ProjectSettings& s) {
  if (!s.twilio.configured()) {
    return Delivery::retry(
        "no Twilio account configured for this project (twilio.account_sid, twilio.from or "
        "twilio.messaging_service_sid, and authd project twilio-token)");
  }
  std::string token = unsealed("twilio", m.project_ref, s.twilio.auth_token_sealed);
  const WipedOnExit wipe(token);
  if (token.empty()) {
    return Delivery::retry("the project's Twilio auth token does not decode: set it again (authd project twilio-token)");
  }
  return twilio_send(s.twilio, token, m.recipient, m.body);
}

Delivery OutboxMailer::deliver(const Message& m, const ProjectSettings& s) {
  try {
    if (m.channel == "email") {
      return send_email(m, s);
    }
    if (m.channel == "sms") {
      return send_sms(m, s);
    }
    return Delivery::failed("no sender for channel " + m.channel);
  } catch (const std::exception& e) {
    // keyd unreachable or refusing to unseal, or curl out of memory: this
    // message waits, and the rest of the batch (some possibly sent already)
    // is still recorded.
    return Delivery::retry(e.what());
  }
}

int OutboxMailer::send_due() {
  PgPool::Lease conn = m_pg.lease();
  pqxx::work tx(*conn);
  // What expired unsent is given up: its code is dead, and its plaintext
  // goes now rather than sitting in the table.
  tx.exec("UPDATE auth.outbox SET body = '', last_error = 'expired before it could be delivered' "
          "WHERE sent_at IS NULL AND expires_at <= now() AND body <> ''");
  // A message failed for good has next_attempt_at 'infinity' (see below),
  // so it is never due again.
  const pqxx::result due = tx.exec(
      "SELECT o.id, o.project_ref, o.channel, o.recipient, o.subject, o.body, o.attempts, p.settings::text "
      "FROM auth.outbox o JOIN auth.projects p ON p.ref = o.project_ref "
      "WHERE o.sent_at IS NULL AND o.next_attempt_at <= now() AND (o.expires_at IS NULL OR o.expires_at > now()) "
      "ORDER BY o.id LIMIT 10 FOR UPDATE OF o SKIP LOCKED");
  int sent = 0;
  for (const pqxx::row& r : due) {
    Message m;
    m.id = r[0].as<std::int64_t>();
    m.project_ref = r[1].as<std::string>();
    m.channel = r[2].as<std::string>();
    m.recipient = r[3].as<std::string>();
    m.subject = r[4].as<std::string>();
    m.body = r[5].as<std::string>();
    m.attempts = r[6].as<int>();
    const ProjectSettings s = ProjectSettings::from_json(boost::json::parse(r[7].as<std::string>()).as_object());
    const Delivery d = deliver(m, s);
    const long long id = static_cast<long long>(m.id);
    switch (d.outcome) {
      case Delivery::Outcome::sent:
        tx.exec_params("UPDATE auth.outbox SET sent_at = clock_timestamp(), body = '', last_error = NULL WHERE id = $1",
                       m.id);
        log::info("authd.outbox_sent", {{"outbox_id", id}, {"project", m.project_ref}, {"channel", m.channel}});
        ++sent;
        break;
      case Delivery::Outcome::retry: {
        const int delay = retry_delay_seconds(d, m.attempts);
        // From the clock, not now(): the transaction began before this
        // batch's sends, which may have taken longer than the delay itself
        // (a peer that hung until the timeout would be retried at once).
        tx.exec_params(
            "UPDATE auth.outbox SET attempts = attempts + 1, last_error = $2, "
            "next_attempt_at = clock_timestamp() + make_interval(secs => $3) WHERE id = $1",
            m.id, d.reason, delay);
        log::warning("authd.outbox_deferred", {{"outbox_id", id}, {"project", m.project_ref}, {"channel", m.channel},
                                               {"reason", d.reason}, {"retry_in_s", delay}});
        break;
      }
      case Delivery::Outcome::failed:
        // Kept (unsent, with its reason) for `authd outbox list`, without
        // its body, and never due again. No schema change: 'infinity' is a
        // timestamp Postgres already has.
        tx.exec_params(
            "UPDATE auth.outbox SET attempts = attempts + 1, last_error = $2, body = '', "
            "next_attempt_at = 'infinity' WHERE id = $1",
            m.id, "not retried: " + d.reason);
        log::warning("authd.outbox_failed", {{"outbox_id", id}, {"project", m.project_ref}, {"channel", m.channel},
                                             {"reason", d.reason}});
        break;
    }
  }
  tx.commit();
  return sent;
}

}  // namespace orbitnest::authd
