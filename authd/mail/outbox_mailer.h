#pragma once
// Sends what auth.outbox holds, on its own thread: one loop for every
// channel, which picks the row's sender — email over SMTP (smtp_send.h),
// sms through Twilio (sms/twilio_sms.h) — and treats every answer the same
// way. Several authd nodes share the outbox safely (FOR UPDATE SKIP
// LOCKED). A failed send is retried with exponential backoff (5 s doubling
// to an hour, or the peer's Retry-After); a message the peer refuses for
// good is marked failed and never sent again; a project without a relay or
// a Twilio account keeps its messages queued. `authd outbox list` shows
// all of it. The body (it holds a code) is blanked once the message has
// gone, failed, or outlived its code.
#include <string>

#include "authd/db/pg_pool.h"
#include "authd/keyd/keyd_link.h"
#include "authd/mail/delivery.h"
#include "authd/ops/background_loop.h"
#include "authd/projects/project.h"

namespace orbitnest::authd {

class OutboxMailer final {
 public:
  OutboxMailer(PgPool& pg, KeydLink& keyd);
  OutboxMailer(const OutboxMailer&) = delete;
  OutboxMailer& operator=(const OutboxMailer&) = delete;

  // Something was queued: look now rather than at the next tick.
  void wake();

 private:
  struct Message;

  int send_due();
  Delivery deliver(const Message& m, const ProjectSettings& s);
  Delivery send_email(const Message& m, const ProjectSettings& s);
  Delivery send_sms(const Message& m, const ProjectSettings& s);
  // A project secret kept sealed in its settings (empty when none is set).
  std::string unsealed(const char* purpose, const std::string& ref, const std::string& sealed);

  PgPool& m_pg;
  KeydLink& m_keyd;
  BackgroundLoop m_loop;  // last: stops first
};

}  // namespace orbitnest::authd
