#pragma once
// Sends what auth.outbox holds, over SMTP (libcurl: STARTTLS or SMTPS,
// AUTH), on its own thread. Several authd nodes share the outbox safely
// (FOR UPDATE SKIP LOCKED). A failed send is retried with exponential
// backoff (5 s doubling to an hour); a project without an SMTP relay keeps
// its mail in the outbox, where `authd outbox list` shows it. The body (it
// holds a code) is blanked once the mail has gone.
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "authd/db/pg_pool.h"
#include "authd/keyd/keyd_link.h"
#include "authd/projects/project.h"

namespace orbitnest::authd {

class OutboxMailer final {
 public:
  OutboxMailer(PgPool& pg, KeydLink& keyd);
  ~OutboxMailer();
  OutboxMailer(const OutboxMailer&) = delete;
  OutboxMailer& operator=(const OutboxMailer&) = delete;

  // Something was queued: look now rather than at the next tick.
  void wake();

 private:
  void run();
  int send_due();

  PgPool& m_pg;
  KeydLink& m_keyd;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  bool m_stopping = false;
  bool m_woken = false;
  std::thread m_thread;
};

// One message over SMTP (TLS verified against the system's CAs or
// smtp.ca_file; STARTTLS required when smtp.starttls); empty on success,
// else curl's error.
std::string smtp_send(const SmtpSettings& smtp, const std::string& password, const std::string& to,
                      const std::string& subject, const std::string& body);

}  // namespace orbitnest::authd
